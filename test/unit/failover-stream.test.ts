import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeoverWatchScript } from '../../src/verify/failover/directors.js';
import { stopScript, streamScript, StreamLog } from '../../src/verify/failover/stream-script.js';

// The drill's request stream, run as the drill runs it (the script on sh's stdin) against a web
// server on this machine's loopback, and a port nothing listens on: each request ends in one
// record, the ticks carry the client's clock, the stop file ends it.

let server: Server;
let port = 0;

const sh = (script: string, onStdout: (chunk: string) => void = () => undefined): Promise<number> =>
  new Promise((resolve, reject) => {
    const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8').on('data', onStdout);
    child.on('error', reject).on('close', (code) => resolve(code ?? -1));
    child.stdin.end(script);
  });

beforeAll(async () => {
  server = createServer((_, response) => response.end('<html><h1>rs1</h1></html>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

describe('the request stream', () => {
  it('sends to each URL every interval and records how each request ended, until the stop file appears', async () => {
    const nonce = 'a1b2c3';
    const log = new StreamLog(nonce);
    // A port just freed: nothing listens there.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const free = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(free));
      });
    });
    const running = sh(streamScript({ nonce, urls: [`http://127.0.0.1:${port}/`, `http://127.0.0.1:${closed}/`], everyMs: 50, timeoutMs: 1000, limitSeconds: 60 }), (chunk) => log.push(chunk));
    const started = Date.now();
    while (log.records.filter((record) => record.target === 0).length < 5 && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await sh(stopScript(nonce))).toBe(0);
    expect(await running).toBe(0);
    expect(log.started && log.ended).toBe(true);
    const answered = log.records.filter((record) => record.target === 0);
    const refused = log.records.filter((record) => record.target === 1);
    expect(answered.length).toBeGreaterThanOrEqual(5);
    expect(answered.every((record) => record.ok && record.detail === 'rs1' && record.done >= record.sent)).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused.every((record) => !record.ok && /ECONNREFUSED/.test(record.detail))).toBe(true);
    // The last tick is the client's clock (here the same as ours) within the time the line took.
    expect(Math.abs((log.clientNow() ?? 0) - Date.now())).toBeLessThan(1000);
  }, 20_000);

  it('says an answer cut off after its headers was cut off (node calls it only "aborted")', async () => {
    // A connection closed mid-answer (the headers and part of the page), as a VIP moving leaves one.
    const cutting = createServer((_, response) => {
      response.writeHead(200, { 'Content-Length': '1000' });
      response.write('<html><h1>rs');
      setTimeout(() => response.socket?.destroy(), 50);
    });
    await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve));
    const nonce = 'c0ffee';
    const log = new StreamLog(nonce);
    const running = sh(streamScript({ nonce, urls: [`http://127.0.0.1:${(cutting.address() as AddressInfo).port}/`], everyMs: 100, timeoutMs: 1000, limitSeconds: 60 }), (chunk) => log.push(chunk));
    const started = Date.now();
    while (log.records.length < 2 && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await sh(stopScript(nonce))).toBe(0);
    expect(await running).toBe(0);
    cutting.close();
    expect(log.records.length).toBeGreaterThanOrEqual(2);
    expect(log.records.map((record) => [record.ok, record.detail])).toContainEqual([false, 'answer cut off: the connection closed mid-page']);
  }, 20_000);

  it('parses lines split across chunks and ignores lines of other nonces', () => {
    const log = new StreamLog('ff', () => 5000);
    log.push('ff start 1000\nff r 0 1000 10');
    log.push('20 ok rs2\nee r 0 1 2 ok rs1\nff r 1 1100 4100 failed no_answer_within_3000_ms\nff t 4');
    expect(log.records).toEqual([
      { target: 0, sent: 1000, done: 1020, ok: true, detail: 'rs2' },
      { target: 1, sent: 1100, done: 4100, ok: false, detail: 'no answer within 3000 ms' },
    ]);
    expect(log.lastTick).toBeUndefined();
    log.push('200\n');
    expect(log.clientNow()).toBe(4200);
  });

  it('says so when the client has no node', async () => {
    const log = new StreamLog('abc');
    await sh(streamScript({ nonce: 'abc', urls: [`http://127.0.0.1:${port}/`], everyMs: 100, timeoutMs: 1000, limitSeconds: 5 }).replace('command -v node', 'command -v no-such-node-here'), (chunk) => log.push(chunk));
    expect(log.noNode).toBe(true);
  });

  it('refuses what it would not build', () => {
    expect(() => streamScript({ nonce: 'zz', urls: [], everyMs: 100, timeoutMs: 1000, limitSeconds: 5 })).toThrow(/hex/);
    expect(() => streamScript({ nonce: 'ab', urls: ['http://x;rm/'], everyMs: 100, timeoutMs: 1000, limitSeconds: 5 })).toThrow(/not a URL/);
    expect(() => streamScript({ nonce: 'ab', urls: [], everyMs: 0, timeoutMs: 1000, limitSeconds: 5 })).toThrow(/interval/);
  });

  it('the takeover watch on a director says `held` as soon as the address is on the device, else `timeout` at its limit', async () => {
    const run = async (vip: string, limitSeconds: number): Promise<string> => {
      let out = '';
      await sh(takeoverWatchScript('c0ffee', new Map([[vip, 'lo']]), limitSeconds), (chunk) => (out += chunk));
      return out.trim();
    };
    expect(await run('127.0.0.1', 5)).toBe('c0ffee watching\nc0ffee held');
    const started = Date.now();
    expect(await run('192.0.2.77', 0.3)).toBe('c0ffee watching\nc0ffee timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(() => takeoverWatchScript('c0ffee', new Map([['192.0.2.1', 'eth0; reboot']]), 1)).toThrow();
  });
});
