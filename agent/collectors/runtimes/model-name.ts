/**
 * A model's name as dashboards show it: the served name, with a filesystem path reduced to its
 * last part (`/models/Qwen2.5-7B-Instruct/` is `Qwen2.5-7B-Instruct`). A hub id such as
 * `meta-llama/Llama-3.1-8B-Instruct` is a name, not a path, and is kept whole.
 */
export function modelName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const name = raw.trim();
  if (name === '') return undefined;
  if (/^(?:\/|\.{1,2}\/|~\/|[A-Za-z]:[\\/])/.test(name)) {
    const parts = name.split(/[\\/]+/).filter((p) => p !== '');
    return parts.at(-1) ?? name;
  }
  return name;
}
