/**
 * The wait before retry number `attempt` (0 first), in ms: `baseMs` doubling per attempt up to
 * `maxMs`, then jittered to between half and one and a half times that, so that many tabs or
 * devices that failed together do not all come back at the same moment.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** attempt) * (0.5 + Math.random());
}
