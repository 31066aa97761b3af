/** A file and the path below the folder it was dropped or picked into. */
export interface PickedFile {
  file: File;
  path: string;
}

/** The files of a file or folder picker (folders give each file's path inside them). */
export function pickedFiles(list: FileList): PickedFile[] {
  return Array.from(list, (file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** The files of a drop, folders walked recursively. */
export async function droppedFiles(transfer: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(transfer.items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((entry): entry is FileSystemEntry => Boolean(entry));
  if (entries.length === 0) return pickedFiles(transfer.files);
  const files: PickedFile[] = [];
  for (const entry of entries) await walk(entry, '', files);
  return files;
}

async function walk(entry: FileSystemEntry, parent: string, into: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    into.push({ file, path: `${parent}${entry.name}` });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries gives the entries in batches: read until it gives none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const child of batch) await walk(child, `${parent}${entry.name}/`, into);
  }
}
