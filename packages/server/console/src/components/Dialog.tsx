import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/** A modal dialog (the native element: focus kept inside, Escape closes). */
export function Dialog({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  /** Closed because it goes away: the close event that follows (a task later) is not the user's. */
  const leaving = useRef(false);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      leaving.current = true;
      dialog?.close();
    };
  }, []);
  return (
    <dialog ref={ref} class={wide ? 'wide' : undefined} aria-label={title} onClose={() => leaving.current || onClose()}>
      <header>
        <h2>{title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {children}
    </dialog>
  );
}
