/**
 * Formats a conformance report as plain text.
 */
import type { ConformanceReport } from './types.js';

/** The report as plain text: a header and one line per check. */
export function formatReport(report: ConformanceReport): string {
  const e = (v: number) => (Number.isNaN(v) ? '   -    ' : v.toExponential(2).padStart(8));
  const lines = [
    `backend ${report.backend} (${report.environment}, tfjs ${report.tfjsVersion}): ${report.passed ? 'PASS' : 'FAIL'} — ${report.counts.pass} passed, ${report.counts.fail} failed, ${report.counts.skip} skipped in ${report.seconds.toFixed(1)} s; tolerance atol ${report.tolerance.atol} x max|ref|, rtol ${report.tolerance.rtol}; leaked tensors ${report.leakedTensors}`,
    `  status  max abs   max rel   check`,
  ];
  for (const c of report.checks) {
    lines.push(`  ${c.status.padEnd(6)} ${e(c.maxAbsError)}  ${e(c.maxRelError)}  ${c.name}${c.error ? `\n           -> ${c.error}` : ''}`);
  }
  return lines.join('\n');
}
