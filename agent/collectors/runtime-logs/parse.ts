/**
 * CUDA out-of-memory as runtimes print it: PyTorch's allocator (`torch.OutOfMemoryError: CUDA
 * out of memory. Tried to allocate ...`, older `torch.cuda.OutOfMemoryError` and
 * `RuntimeError: CUDA out of memory`), the CUDA runtime (`CUDA error: out of memory`), ggml's
 * CUDA backend in llama.cpp and Ollama (`cudaMalloc failed: out of memory`), and vLLM failing
 * to fit its KV cache at start-up.
 */
const CUDA_OOM = [
  /CUDA out of memory/,
  /CUDA error: out of memory/,
  /cudaMalloc failed: out of memory/,
  /No available memory for the cache blocks/,
  /KV cache is needed, which is larger than the available KV cache memory/,
];

/** Only the classification leaves this function: log lines may hold prompts. */
export function isCudaOom(line: string): boolean {
  return CUDA_OOM.some((re) => re.test(line));
}
