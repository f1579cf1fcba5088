/** A revision directory: a git commit hash, as the Hugging Face hub cache names snapshots. */
const REVISION = /^[0-9a-f]{40}$/i;
/** The hub cache's repository folder: `models--org--name`. */
const HUB_REPO = /^models--(.+)$/;

/**
 * A model's name as dashboards show it: the served name, with a filesystem path reduced to the
 * name users know. A hub id such as `meta-llama/Llama-3.1-8B-Instruct` is a name, not a path,
 * and is kept whole. From a path:
 * - the Hugging Face hub cache, `.../models--Qwen--Qwen2.5-7B-Instruct/snapshots/<hash>/`,
 *   gives `Qwen/Qwen2.5-7B-Instruct` (a file inside a snapshot keeps its own name:
 *   `.../snapshots/<hash>/model-Q4_K_M.gguf` is `model-Q4_K_M.gguf`);
 * - any other path gives its last part, a trailing slash and revision hashes aside
 *   (`/models/Llama-3.2-3B/5cc0ffe0.../` is `Llama-3.2-3B`).
 */
export function modelName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const name = raw.trim();
  if (name === '') return undefined;
  if (!/^(?:\/|\.{1,2}\/|~\/|[A-Za-z]:[\\/])/.test(name)) return name;
  const parts = name.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  // Revision folders and the hub cache's `snapshots` folder say nothing about the model.
  while (parts.length > 1 && (REVISION.test(parts.at(-1) ?? '') || parts.at(-1) === 'snapshots'))
    parts.pop();
  const last = parts.at(-1) ?? name;
  const hub = HUB_REPO.exec(last);
  return hub ? (hub[1] ?? last).replace(/--/g, '/') : last;
}
