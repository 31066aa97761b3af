import type { ComponentChildren } from 'preact';

/**
 * The end of a confirming dialog: its error (announced), then Cancel and the dialog's own action
 * (`children`, the button that does it).
 */
export function DialogActions({
  error,
  onCancel,
  children,
}: {
  error: string | undefined;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  return (
    <>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        {children}
      </div>
    </>
  );
}
