import { hush } from "../../../lib/hush";
import { notesOf } from "../../../lib/notes";

/** The notes as JSON, for `auth.fetch("/api/notes")` (a bearer token) from the browser. */
export async function GET(): Promise<Response> {
  const auth = await hush.getServerAuth();
  if (!auth)
    return Response.json({ error: "invalid_token" }, { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
  return Response.json({ notes: notesOf(auth.claims.sub) }, { headers: { "cache-control": "private, no-store" } });
}
