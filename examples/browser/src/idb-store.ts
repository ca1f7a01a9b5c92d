/**
 * A @maejs/trainer CheckpointStore in IndexedDB: one object store, name -> bytes. Each save is
 * one readwrite transaction, so a reader never sees a half-written entry (the interface's
 * atomicity rule).
 */
import type { CheckpointStore } from '@maejs/trainer';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

export class IndexedDbCheckpointStore implements CheckpointStore {
  private db: Promise<IDBDatabase> | null = null;

  constructor(
    readonly databaseName = 'maejs-example',
    readonly storeName = 'checkpoints',
  ) {}

  private open(): Promise<IDBDatabase> {
    if (!this.db) {
      if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available in this browser (private mode?)');
      const req = indexedDB.open(this.databaseName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(this.storeName);
      this.db = request(req);
    }
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    const tx = db.transaction(this.storeName, mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    });
    const [result] = await Promise.all([request(body(tx.objectStore(this.storeName))), done]);
    return result;
  }

  async save(name: string, bytes: Uint8Array): Promise<void> {
    await this.run('readwrite', (s) => s.put(bytes.slice().buffer, name));
  }

  async load(name: string): Promise<Uint8Array> {
    const value = await this.run('readonly', (s) => s.get(name) as IDBRequest<ArrayBuffer | undefined>);
    if (!value) throw new Error(`IndexedDB ${this.databaseName}/${this.storeName}: no entry '${name}'`);
    return new Uint8Array(value);
  }

  async list(): Promise<string[]> {
    return (await this.run('readonly', (s) => s.getAllKeys())).map(String);
  }

  async remove(name: string): Promise<void> {
    await this.run('readwrite', (s) => s.delete(name));
  }
}
