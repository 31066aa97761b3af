// A page's upload button: the page's own server hands out an upload URL (storage.getUploadUrl),
// and the browser sends the file straight to Stowage, resuming after dropped connections.
import { uploadBlob } from 'stowage-client';

const input = document.querySelector('input[type=file]');
const bar = document.querySelector('progress');

input.addEventListener('change', async () => {
  const file = input.files[0];
  const answer = await fetch(`/api/upload-url?name=${encodeURIComponent(file.name)}`);
  const { uploadUrl } = await answer.json();
  bar.max = file.size;
  const stored = await uploadBlob(uploadUrl, file, {
    onProgress: (bytes) => {
      bar.value = bytes;
    },
  });
  console.log(`stored ${stored.key}: ${stored.size} bytes, sha256 ${stored.sha256}`);
});
