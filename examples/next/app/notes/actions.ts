"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { hush } from "../../lib/hush";
import { addNote } from "../../lib/notes";

/**
 * Adds a note. The proxy signed this action in only because it came from this origin's own page
 * (Origin and Sec-Fetch-Site checked), so a cross-site form reaches it anonymous.
 */
export async function addNoteAction(form: FormData): Promise<void> {
  const auth = await hush.getServerAuth();
  if (!auth) redirect("/login?next=/notes");
  const text = String(form.get("text") ?? "").trim();
  if (text) addNote(auth.claims.sub, text.slice(0, 500));
  revalidatePath("/notes");
}
