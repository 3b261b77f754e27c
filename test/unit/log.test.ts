// The one logger: JSON lines, customer data and secrets censored wherever they appear, errors as
// name/message/code, and the ready line supervisors wait for.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, errorFields, readyLine } from '../../infra/log';

function capture(level: Parameters<typeof createLogger>[0] = 'info') {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger(level, sink), lines, raw };
}

describe('the logger', () => {
  it('writes one JSON object a line with level name, ISO time and the message', () => {
    const { logger, lines } = capture();
    logger.child({ component: 'api' }).info({ route: '/api/v1/orders/:orderId', status: 200 }, 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', component: 'api', route: '/api/v1/orders/:orderId', status: 200, msg: 'request' });
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
  });

  it('censors delivery details, addresses and secrets at the top level and one object down', () => {
    const { logger, raw } = capture();
    logger.info(
      {
        authorization: 'Bearer agent-secret-token',
        delivery: { name: 'Alice Johnson', line1: '1 High Street', postcode: 'AB1 2CD' },
        order: { orderId: 'ORD-1', address: { line1: '1 High Street' }, deliveryName: 'Alice Johnson', token: 'abc' },
        password: 'hunter2',
      },
      'something happened',
    );
    const line = raw.join('\n');
    for (const secret of ['agent-secret-token', 'Alice Johnson', 'High Street', 'AB1 2CD', 'hunter2', '"abc"']) expect(line).not.toContain(secret);
    expect(line).toContain('ORD-1');
    expect(line).toContain('[redacted]');
  });

  it('honours the level', () => {
    const { logger, lines } = capture('warn');
    logger.info('not shown');
    logger.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('logs an error by name, message and code, not the objects it carries', () => {
    const err = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED', request: { delivery: { name: 'Alice' } } });
    const fields = errorFields(err);
    expect(fields.err).toMatchObject({ name: 'Error', message: 'connection refused', code: 'ECONNREFUSED' });
    expect(JSON.stringify(fields)).not.toContain('Alice');
    expect(errorFields('plain')).toEqual({ err: { name: 'NonError', message: 'plain' } });
  });

  it("matches a service's ready line and no other", () => {
    const { logger, raw } = capture();
    logger.info({ component: 'worker', taskQueue: 'q' }, 'ready');
    logger.info({ component: 'api' }, 'ready');
    expect(readyLine('worker').test(raw[0])).toBe(true);
    expect(readyLine('worker').test(raw[1])).toBe(false);
    expect(readyLine('api').test(raw[1])).toBe(true);
  });
});
