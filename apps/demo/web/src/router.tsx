import { type MouseEvent, type ReactNode, useEffect, useState } from "react";

// The app is one page: it routes by `location.pathname` (the demo's web server answers
// index.html for every path without a dot). Emailed links arrive as full page loads.

const NAVIGATED = "demo:navigate";

/** The current path, updated on `navigate()` and on Back/Forward. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    addEventListener("popstate", update);
    addEventListener(NAVIGATED, update);
    return () => {
      removeEventListener("popstate", update);
      removeEventListener(NAVIGATED, update);
    };
  }, []);
  return path;
}

/** Goes to `to` without reloading: the access token in memory stays. */
export function navigate(to: string): void {
  history.pushState(null, "", to);
  dispatchEvent(new Event(NAVIGATED));
}

/** A link within the app (a plain link with a modifier key or a middle click). */
export function Link({ to, children, testId }: { to: string; children: ReactNode; testId?: string }) {
  function click(event: MouseEvent<HTMLAnchorElement>) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  }
  return (
    <a href={to} onClick={click} data-testid={testId}>
      {children}
    </a>
  );
}
