/** The example's notes, per user, in memory (kept on `globalThis`: one store for every bundle of the process). */
const slot = globalThis as { hushExampleNotes?: Map<string, string[]> };
slot.hushExampleNotes ??= new Map();
const notes = slot.hushExampleNotes;

export function notesOf(userId: string): string[] {
  return notes.get(userId) ?? [];
}

export function addNote(userId: string, text: string): void {
  notes.set(userId, [...notesOf(userId), text]);
}
