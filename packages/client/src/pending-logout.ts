/**
 * Remembers a logout that the auth server has not confirmed yet, as the id of the session it
 * ends (its `sid`: no secret; "" when unknown), so that no tab and no reload of this browser signs
 * back in with the refresh cookie that still lives. Kept in `localStorage`, which every tab of
 * the origin shares and a reload keeps, and removed as soon as the server confirms; where
 * storage is unavailable (blocked, sandboxed, full) it lives in this tab's memory only.
 */
export function createPendingLogout(key: string) {
  let memory: string | null = null;
  let unsaved = false;
  return {
    /** The session id of the pending logout, or null when none is pending. */
    get(): string | null {
      try {
        return localStorage.getItem(key) ?? (unsaved ? memory : null);
      } catch {
        return memory;
      }
    },
    /** Marks the logout of session `sid` as pending, or (with null) as done. */
    set(sid: string | null): void {
      memory = sid;
      try {
        if (sid === null) localStorage.removeItem(key);
        else localStorage.setItem(key, sid);
        unsaved = false;
      } catch {
        unsaved = true;
      }
    },
  };
}
