import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../types.js';
import { flattenHeaders, RequestRecorder } from './request-recorder.js';

function request(path: string): RecordedRequest {
  return { method: 'POST', path, headers: {}, body: undefined, receivedAt: 0, httpVersion: '1.1' };
}

describe('RequestRecorder', () => {
  it('keeps the newest requests up to its capacity, newest last', () => {
    const recorder = new RequestRecorder(2);
    for (const path of ['/a', '/b', '/c']) {
      recorder.record(request(path));
    }

    expect(recorder.list().map((recorded) => recorded.path)).toEqual(['/b', '/c']);
  });

  it('keeps nothing at capacity 0', () => {
    const recorder = new RequestRecorder(0);
    recorder.record(request('/a'));

    expect(recorder.list()).toEqual([]);
  });

  it('forgets everything on clear', () => {
    const recorder = new RequestRecorder(3);
    recorder.record(request('/a'));
    recorder.clear();
    recorder.record(request('/b'));

    expect(recorder.list().map((recorded) => recorded.path)).toEqual(['/b']);
  });
});

describe('flattenHeaders', () => {
  it('joins repeated headers and drops missing ones', () => {
    expect(flattenHeaders({ 'x-a': ['1', '2'], 'x-b': '3', 'x-c': undefined })).toEqual({ 'x-a': '1, 2', 'x-b': '3' });
  });
});
