/**
 * The GPU driver versions the GPU view saw in its last scrape, for the sources that record
 * what a result rests on (the evaluation). Empty while no reader reports a GPU: unknown, which
 * is not a change.
 */
export class GpuDrivers {
  private versions: readonly string[] = [];

  set(versions: Iterable<string>): void {
    this.versions = [...new Set(versions)].filter((v) => v !== '').sort();
  }

  current(): readonly string[] {
    return this.versions;
  }
}
