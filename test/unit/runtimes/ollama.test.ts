import { itDeclaresWhatItReads } from '../../helpers/runtime-api.js';
import { describe, expect, it } from 'vitest';
import { mapOllama, ollama } from '../../../agent/collectors/runtimes/adapters/ollama.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { readFixture } from '../../helpers/fixtures.js';
import { Folded } from '../../helpers/runtime-reading.js';

const json = (file: string) => JSON.parse(readFixture('runtimes', file)) as never;

describe('Ollama', () => {
  it('reports loaded models with their memory, and installed ones as not loaded', () => {
    const r = new Folded(
      mapOllama(
        json('ollama_api-ps_gemma3-4b.json'),
        (json('ollama_api-tags_constructed.json') as { models: { name: string }[] }).models.map(
          (m) => m.name,
        ),
        'localhost:11434',
      ),
    );
    expect(r.value(M.MODEL_LOADED, { model: 'gemma3:latest' })).toBe(1);
    expect(r.value(M.MODEL_LOADED, { model: 'qwen2.5-coder:7b' })).toBe(0);
    expect(r.value(M.MODEL_MEMORY, { model: 'gemma3:latest', location: 'vram' })).toBe(
      5_964_735_424,
    );
    expect(r.value(M.MODEL_MEMORY, { model: 'gemma3:latest', location: 'total' })).toBe(
      5_964_735_424,
    );
    expect(r.reading.models).toEqual(['gemma3:latest']);
    expect(r.reading.metricsSource).toBe('derived');
    expect(r.source('models')).toBe('native');
    expect(r.source('request_outcomes')).toBe('none');
  });
});

describe('its column of the runtime table (docs/runtimes.md)', () => {
  itDeclaresWhatItReads(ollama, [
    {
      '/api/ps': 'ollama_api-ps_gemma3-4b.json',
      '/api/tags': 'ollama_api-tags_constructed.json',
      '/api/version': 'ollama_api-version_constructed.json',
    },
  ]);
});
