import { z } from 'zod';
import { httpUrl, ms } from '../../core/config-fields.js';

const dcgm = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      'Read a dcgm-exporter for SM, tensor and DRAM activity, NVLink and PCIe figures and an exact energy counter.',
    ),
  url: httpUrl()
    .optional()
    .describe(
      "dcgm-exporter's metrics URL. Unset: http://127.0.0.1:9400/metrics, used only when something answers there as dcgm-exporter; set: a failure to read it is reported as one.",
    ),
  timeout_ms: ms(100, 60_000)
    .default(5000)
    .describe(
      'Longest one read of dcgm-exporter may take. A scrape does not wait for it past collectors.timeout_ms: it serves the last good read meanwhile.',
    ),
  max_body_bytes: z
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(16 * 1024 * 1024)
    .describe('Largest answer read; a larger one is an error.'),
});

export const dcgmConfig = dcgm.prefault({}).describe('NVIDIA DCGM through a dcgm-exporter.');
