/**
 * Takes the `name=value` parameters named in `names` out of the page's fragment — from the
 * address bar and from this page's history entry (`history.replaceState`), so that a reload,
 * Back, a bookmark or a shared URL do not carry them — keeping the path, query, history state and
 * any other fragment parameter. Returns the first value of each, decoded ("" when it does not
 * decode), or `undefined` when none was there (and then changes nothing).
 */
export function takeFragmentParams(names: readonly string[]): Map<string, string> | undefined {
  const found = new Map<string, string>();
  const rest = location.hash
    .replace(/^#/, "")
    .split("&")
    .filter((part) => {
      const equals = part.indexOf("=");
      const key = equals < 0 ? part : part.slice(0, equals);
      if (!names.includes(key)) return part !== "";
      if (!found.has(key)) found.set(key, decoded(part.slice(key.length + 1)));
      return false;
    });
  if (found.size === 0) return undefined;
  history.replaceState(history.state, "", `${location.pathname}${location.search}${rest.length ? `#${rest.join("&")}` : ""}`);
  return found;
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return "";
  }
}
