import type { ApiKeyScope } from 'stowage-client/protocol';

/** What the new-key form says: full access, read only, or limited to a bucket and/or folder. */
export interface ScopeChoice {
  access: 'full' | 'read' | 'limited';
  /** '' for any bucket. */
  bucket: string;
  /** '' for every folder; a folder without its final / gets one. */
  prefix: string;
  readOnly: boolean;
}

/** The scope fields of `POST /keys` for a choice (none: the user's own rights). */
export function scopeOf(choice: ScopeChoice): { readOnly?: boolean; bucket?: string; prefix?: string } {
  if (choice.access === 'full') return {};
  if (choice.access === 'read') return { readOnly: true };
  const prefix = choice.prefix.trim();
  return {
    readOnly: choice.readOnly,
    ...(choice.bucket && { bucket: choice.bucket }),
    ...(prefix && { prefix: prefix.endsWith('/') ? prefix : `${prefix}/` }),
  };
}

/** A key's access in words: "Full", "Read only", "Read and write, bucket team, folder reports/". */
export function describeScope(scope: ApiKeyScope | null): string {
  if (!scope) return 'Full';
  const parts = [scope.readOnly ? 'Read only' : 'Read and write'];
  if (scope.bucket) parts.push(`bucket ${scope.bucket}`);
  if (scope.prefix) parts.push(`folder ${scope.prefix}`);
  return parts.join(', ');
}
