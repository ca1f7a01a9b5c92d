// PyTorch's best correct BLAS configuration on this CPU, for the benchmark's PyTorch rows.
//
// Debian's OpenBLAS is built with DYNAMIC_ARCH: it picks kernels for a detected core type when
// it loads, and its detection can be wrong (a Xeon detected as "Prescott", SSE3, runs a 512³
// product at a quarter of its AVX-512 speed). OPENBLAS_CORETYPE forces a core type. This module
// runs scripts/bench/blas_probe.py once per core type the CPU's flags allow (plus the
// auto-detected one), each in a fresh process, and keeps a core type only when
//   - OpenBLAS reports the core type that was asked for (it falls back silently otherwise), and
//   - every product agrees with a float64 product within the float32 rounding-error bound
//     (errorOverBound < 1, see blas_probe.py).
// The fastest kept core type (geometric mean of the GFLOP/s over the probe's shapes) is chosen.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'blas_probe.py');

/** OpenBLAS core types worth trying, each with the CPU flags its kernels need (x86-64 only). */
const CORE_TYPES = [
  { name: 'SapphireRapids', needs: ['avx512f', 'avx512_bf16', 'amx_tile'] },
  { name: 'Cooperlake', needs: ['avx512f', 'avx512_bf16'] },
  { name: 'SkylakeX', needs: ['avx512f'] },
  { name: 'Zen', needs: ['avx2', 'fma'] },
  { name: 'Haswell', needs: ['avx2', 'fma'] },
  { name: 'Sandybridge', needs: ['avx'] },
  { name: 'Nehalem', needs: ['sse4_2'] },
  { name: 'Prescott', needs: ['sse3'] },
];

function cpuFlags() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:\s*(.*)$/m)?.[1] ?? '';
    // /proc/cpuinfo says "pni" for SSE3
    return new Set(line.split(/\s+/).map((f) => (f === 'pni' ? 'sse3' : f)));
  } catch {
    return new Set();
  }
}

/** The core types this CPU can run, best first; `null` stands for OpenBLAS's own detection. */
export function candidateCoreTypes(flags = cpuFlags()) {
  return [null, ...CORE_TYPES.filter((c) => c.needs.every((f) => flags.has(f))).map((c) => c.name)];
}

function runProbe(python, coreType, env, threads) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.OPENBLAS_CORETYPE;
  if (coreType) childEnv.OPENBLAS_CORETYPE = coreType;
  try {
    const out = execFileSync(python, [PROBE, '--threads', String(threads)], { env: childEnv, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
    if (!line) return { error: 'no BENCH_JSON line' };
    return JSON.parse(line.slice(11));
  } catch (error) {
    return { error: String(error.stderr || error.message).trim().split('\n').slice(-2).join(' | ').slice(0, 300) };
  }
}

const geomean = (xs) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

/** Why a probed core type is not usable, or null when it is. */
function rejection(requested, probe) {
  if (probe.error) return `did not run: ${probe.error}`;
  if (!probe.openblas) return 'torch did not load OpenBLAS';
  const core = probe.openblas.core;
  if (requested && core.toLowerCase() !== requested.toLowerCase()) return `OpenBLAS ran ${core} instead`;
  const worst = Math.max(...probe.checks.map((c) => c.errorOverBound));
  if (!(worst < 1)) return `float32 products off by ${worst.toFixed(2)}x the rounding-error bound`;
  return null;
}

/**
 * Probes every candidate core type with `threads` OpenBLAS threads, `rounds` times in alternating
 * order (the best rate of each is kept, so a moment of load on a shared machine does not decide),
 * and returns them all with the fastest correct one as `chosen` (`coreType` null = no
 * OPENBLAS_CORETYPE).
 * @param {{ python: string, env: Record<string,string>, threads?: number, rounds?: number, log?: (s: string) => void }} options
 */
export function probeCoreTypes({ python, env, threads = 1, rounds = 2, log = () => {} }) {
  const candidates = candidateCoreTypes();
  const byType = new Map(candidates.map((c) => [c, null]));
  for (let round = 0; round < rounds; round++) {
    for (const coreType of round % 2 ? [...candidates].reverse() : candidates) {
      const probe = runProbe(python, coreType, env, threads);
      const rejected = rejection(coreType, probe);
      const entry = {
        coreType,
        core: probe.openblas?.core ?? null,
        worstErrorOverBound: probe.checks ? Math.max(...probe.checks.map((c) => c.errorOverBound)) : null,
        gflops: probe.checks ? geomean(probe.checks.map((c) => c.gflops)) : null,
        gflops512: probe.checks?.find((c) => c.shape.every((s) => s === 512))?.gflops ?? null,
        rejected,
      };
      const previous = byType.get(coreType);
      // a core type is usable only if every round passed; its rate is the best round's
      if (!previous || entry.rejected || (!previous.rejected && entry.gflops > previous.gflops)) {
        byType.set(coreType, previous?.rejected ? previous : { ...entry, gflops512: Math.max(entry.gflops512 ?? 0, previous?.gflops512 ?? 0) || null });
      }
      log(`OpenBLAS core ${coreType ?? 'auto'} (round ${round + 1}/${rounds}): ${rejected ?? `ok, ${entry.gflops.toFixed(1)} GFLOP/s (geometric mean over the probe's shapes), error ${entry.worstErrorOverBound.toFixed(3)} of the bound`}`);
    }
  }
  const probed = [...byType.values()];
  const usable = probed.filter((p) => !p.rejected);
  const chosen = usable.reduce((best, p) => (!best || p.gflops > best.gflops ? p : best), null);
  return { threads, rounds, probed, chosen };
}

/** One line for the report: which core type the PyTorch rows used, and why. */
export function describeChoice(result) {
  if (!result.chosen) return 'no OpenBLAS core type passed the checks; PyTorch ran with its defaults';
  const c = result.chosen;
  const auto = result.probed.find((p) => p.coreType === null);
  const name = c.coreType ? `OPENBLAS_CORETYPE=${c.coreType}` : `OpenBLAS's own detection (${c.core})`;
  const vsAuto = auto && !auto.rejected && c !== auto ? `, ${(c.gflops / auto.gflops).toFixed(2)}x the auto-detected ${auto.core}` : '';
  return `${name}: the fastest of ${result.probed.filter((p) => !p.rejected).length} core types whose float32 products agree with float64 within the rounding-error bound (${c.gflops.toFixed(1)} GFLOP/s on the probe's shapes with ${result.threads} thread${result.threads > 1 ? 's' : ''}${vsAuto})`;
}
