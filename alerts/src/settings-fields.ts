import { z } from 'zod';

/** A share strictly between 0 and 1. */
export const ratio = z.number().gt(0).lt(1);

/** A value that can stand in a label matcher as it is. */
export const label = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be a plain label value');
export const labelName = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name');
