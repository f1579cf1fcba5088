import { describe, expect, it } from 'vitest';
import {
  activeFlag,
  isAbsent,
  mibToBytes,
  number,
  percentToRatio,
  performanceState,
  recoveryAction,
  usToSeconds,
  yesNo,
} from '../../agent/collectors/nvidia-smi/values.js';

describe('nvidia-smi value tokens', () => {
  it.each([
    '[N/A]',
    'N/A',
    '[Not Supported]',
    '[Unknown Error]',
    '[Insufficient Permissions]',
    '[Requested functionality has been deprecated]',
    '[Function Not Found]',
    '',
  ])('treats %j as absent, never as 0', (token) => {
    expect(isAbsent(token)).toBe(true);
    expect(number(token)).toBeUndefined();
    expect(percentToRatio(token)).toBeUndefined();
    expect(activeFlag(token)).toBeUndefined();
    expect(performanceState(token)).toBeUndefined();
  });

  it('reads values with and without units (csv and csv,nounits)', () => {
    expect(mibToBytes('81559 MiB')).toBe(81559 * 1048576);
    expect(mibToBytes('81559')).toBe(81559 * 1048576);
    expect(percentToRatio('100 %')).toBe(1);
    expect(percentToRatio('11')).toBeCloseTo(0.11);
    expect(number('631.95 W')).toBe(631.95);
    expect(usToSeconds('204642816 us')).toBeCloseTo(204.642816);
  });

  it('marks garbage as NaN so it is counted, not exported', () => {
    expect(number('12abc')).toBeNaN();
    expect(number('0x1F')).toBeNaN();
    expect(activeFlag('Maybe')).toBeNaN();
    expect(performanceState('Px')).toBeNaN();
  });

  it('maps enumerations', () => {
    expect(activeFlag('Active')).toBe(1);
    expect(activeFlag('Not Active')).toBe(0);
    expect(yesNo('Yes')).toBe(1);
    expect(yesNo('No')).toBe(0);
    expect(performanceState('P8')).toBe(8);
    expect(recoveryAction('None')).toBe(0);
    expect(recoveryAction('Node Reboot')).toBe(2);
  });
});
