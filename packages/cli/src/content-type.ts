import mime from 'mime';

/**
 * The content type to store a file with when the user named none: from the file's name (the
 * MIME database's extensions), so that previews and signed links show text, images and PDFs
 * instead of downloading them. Undefined when the name says nothing: the server's default
 * (application/octet-stream) applies.
 */
export function contentTypeFor(fileName: string): string | undefined {
  return mime.getType(fileName) ?? undefined;
}
