import { redirect } from "next/navigation";
import { NotesCount } from "../../components/notes-count";
import { hush } from "../../lib/hush";
import { notesOf } from "../../lib/notes";
import { addNoteAction } from "./actions";

/** A protected page: rendered signed in on the server, or sent to the sign-in page. */
export default async function NotesPage() {
  const auth = await hush.getServerAuth();
  if (!auth) redirect("/login?next=/notes");
  const notes = notesOf(auth.claims.sub);
  return (
    <section>
      <h1>Notes</h1>
      <p data-testid="server-user">Signed in as {auth.user?.email ?? auth.claims.sub}</p>
      <ul data-testid="notes">
        {notes.map((note, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: notes are only appended
          <li key={index}>{note}</li>
        ))}
      </ul>
      <form action={addNoteAction}>
        <input name="text" aria-label="New note" required />
        <button type="submit">Add</button>
      </form>
      <NotesCount />
    </section>
  );
}
