import { type BucketName, isStorageType, STORAGE_TYPES } from '../api.js';

/**
 * "Storage type or bucket" for a copy or move: the built-in types, then the named buckets offered
 * (and `from`, the bucket the source is in, even when the list of buckets does not hold it yet).
 */
export function DestinationSelect({
  value,
  from,
  buckets,
  disabled,
  onChange,
}: {
  value: BucketName;
  from: BucketName;
  buckets: readonly string[];
  disabled?: boolean;
  onChange: (type: BucketName) => void;
}) {
  const destinations = [...new Set([...buckets, ...(isStorageType(from) ? [] : [from])])].sort();
  return (
    <label>
      Storage type or bucket
      <select value={value} disabled={disabled} onChange={(event) => onChange((event.currentTarget as HTMLSelectElement).value)}>
        <optgroup label="Built-in">
          {STORAGE_TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </optgroup>
        {destinations.length > 0 && (
          <optgroup label="Buckets">
            {destinations.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </optgroup>
        )}
      </select>
    </label>
  );
}
