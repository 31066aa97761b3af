import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';

/**
 * A row's action buttons: in a line where there is room, behind one "Actions" menu button on a
 * phone's width (app.css decides which shows). Choosing an action, Escape or a click elsewhere
 * closes the menu.
 */
export function RowActions({ name, children }: { name: string; children: ComponentChildren }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    // A click anywhere closes it: elsewhere, or on the action chosen (the toggle's own click toggles).
    const close = (event: Event) => {
      if (!ref.current?.querySelector('.menu-toggle')?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && setOpen(false);
    document.addEventListener('click', close);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <div class="row-actions" data-open={open} ref={ref}>
      <button
        type="button"
        class="menu-toggle"
        aria-expanded={open}
        aria-controls={id}
        aria-label={`Actions for ${name}`}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      <div id={id} class="row-action-list">
        {children}
      </div>
    </div>
  );
}
