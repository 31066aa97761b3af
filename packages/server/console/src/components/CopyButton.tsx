/** Copies `text` to the clipboard and says so (or says to copy it by hand where the clipboard is not available). */
export function CopyButton({ text, label, onCopied }: { text: string; label: string; onCopied: (message: string) => void }) {
  return (
    <button type="button" onClick={() => void copyText(text).then(onCopied)}>
      {label}
    </button>
  );
}

/** Writes `text` to the clipboard; answers what to tell the user. */
export async function copyText(text: string): Promise<string> {
  try {
    // No clipboard outside secure contexts (plain http on another host than localhost).
    if (!navigator.clipboard) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    return 'Copied to the clipboard.';
  } catch {
    return 'Select the link and copy it (the clipboard was not available).';
  }
}
