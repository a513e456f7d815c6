const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION_PATTERN = /^(\d+)(s|m|h|d|w)$/;

/**
 * Parses a duration such as `30s`, `10m`, `1h`, `30d` or `2w` into whole seconds.
 * A bare number is read as seconds. Returns `undefined` for anything else, so callers can
 * name the setting in their own error.
 */
export function parseDurationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return seconds > 0 ? seconds : undefined;
  }
  const match = DURATION_PATTERN.exec(trimmed);
  if (!match) return undefined;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] ?? ""] ?? 0);
  return seconds > 0 ? seconds : undefined;
}
