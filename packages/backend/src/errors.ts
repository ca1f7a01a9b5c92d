/** Thrown when a backend cannot be started; `reason` says why (and what to do) in one line. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(`backend '${backend}' is not available: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}
