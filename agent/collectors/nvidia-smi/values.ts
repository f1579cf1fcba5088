/**
 * nvidia-smi value tokens. A value the tool cannot give ([N/A], [Not Supported], [Unknown Error],
 * [Insufficient Permissions], [Requested functionality has been deprecated], bare N/A, empty) is
 * absent: it yields no series, never a 0.
 */
export const ABSENT = undefined;

/** A converter returns the value in base units, `undefined` when absent, or NaN for garbage. */
export type Convert = (token: string) => number | undefined;

export function isAbsent(token: string): boolean {
  return token === '' || token === 'N/A' || (token.startsWith('[') && token.endsWith(']'));
}

// With --format=csv (no nounits) values carry their unit; accept both forms.
const NUMBER = /^([+-]?\d+(?:\.\d+)?)(?: (?:MiB|%|W|MHz|us|ms|C))?$/;

export const number: Convert = (token) => {
  if (isAbsent(token)) return ABSENT;
  const match = NUMBER.exec(token);
  return match ? Number(match[1]) : Number.NaN;
};

const scaled =
  (factor: number): Convert =>
  (token) => {
    const n = number(token);
    return n === undefined ? n : n * factor;
  };

export const percentToRatio = scaled(0.01);
export const mibToBytes = scaled(1024 * 1024);
export const mhzToHertz = scaled(1e6);
export const usToSeconds = scaled(1e-6);

const enumeration =
  (table: Readonly<Record<string, number>>): Convert =>
  (token) => {
    if (isAbsent(token)) return ABSENT;
    return table[token] ?? Number.NaN;
  };

export const activeFlag = enumeration({ Active: 1, 'Not Active': 0 });
export const yesNo = enumeration({ Yes: 1, No: 0 });
export const recoveryAction = enumeration({
  None: 0,
  'GPU Reset': 1,
  'Node Reboot': 2,
  'Drain P2P': 3,
  'Drain and Reset': 4,
});

export const performanceState: Convert = (token) => {
  if (isAbsent(token)) return ABSENT;
  const match = /^P(\d{1,2})$/.exec(token);
  return match ? Number(match[1]) : Number.NaN;
};

/** Text identity values: absent tokens become undefined. */
export function text(token: string | undefined): string | undefined {
  return token === undefined || isAbsent(token) ? undefined : token;
}
