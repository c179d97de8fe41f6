/**
 * nodes/shared/n8nHttp.ts reading a streamed (capped) body: the whole read is bounded by the
 * request's timeoutMs, counted from the request start (a server dripping a byte at a time, each
 * inside the socket idle timeout, cannot keep the request alive); the stream is destroyed on every
 * error path; the deadline timer is cleared whenever the read settles.
 */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { makeN8nSend } from '../../../nodes/shared/n8nHttp';
import { ResponseTooLargeError, TransportError, type HttpRequest } from '../../../transports/http';
import { mockExecuteContext } from '../../helpers/mockExecuteContext';

/** The part of a body stream makeN8nSend uses (on, pipe, destroy), driven by hand. */
class FakeStream extends EventEmitter {
	destroyed = false;
	readonly destroy = jest.fn(() => {
		this.destroyed = true;
		return this;
	});
	pipe() {
		return this;
	}
}

const request = (over: Partial<HttpRequest> = {}): HttpRequest => ({
	method: 'POST',
	url: 'http://khaos.test/x',
	headers: {},
	body: '<a/>',
	timeoutMs: 1000,
	maxResponseBytes: 1024,
	...over,
});

function sendAnswering(answer: () => unknown) {
	const ctx = mockExecuteContext({
		helpers: { httpRequestWithAuthentication: async () => answer() },
	});
	return makeN8nSend(ctx, 'khaosControlApi');
}

/** Run the request and record how it settled, without awaiting it (a hung read never settles). */
function track(promise: Promise<unknown>) {
	const state: { done: boolean; value?: unknown; error?: unknown } = { done: false };
	promise.then(
		(value) => Object.assign(state, { done: true, value }),
		(error: unknown) => Object.assign(state, { done: true, error }),
	);
	return state;
}

/** Let the helper's promise resolve and the reader attach its listeners. */
async function flush() {
	for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('streamed body: deadline, destroy on error, no timer left', () => {
	beforeEach(() =>
		jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }),
	);
	afterEach(() => jest.useRealTimers());

	it('a body dripping one byte every 400 ms (inside any idle timeout) fails at timeoutMs with a retryable timeout, stream destroyed', async () => {
		const stream = new FakeStream();
		const state = track(
			sendAnswering(() => ({ statusCode: 200, headers: {}, body: stream }))(request()),
		);
		await flush();
		expect(stream.listenerCount('data')).toBe(1);
		for (let t = 0; t < 10 && !state.done; t++) {
			stream.emit('data', Buffer.from('a'));
			await jest.advanceTimersByTimeAsync(400);
		}
		expect(state.done).toBe(true);
		expect(state.error).toBeInstanceOf(TransportError);
		expect(state.error).toMatchObject({
			kind: 'timeout',
			retryable: true,
			message: 'no complete response within 1000 ms',
		});
		expect(stream.destroy).toHaveBeenCalled();
		expect(jest.getTimerCount()).toBe(0);
	});

	it('the deadline counts from the request start: a helper that took 700 ms leaves the body 300 ms', async () => {
		const stream = new FakeStream();
		const ctx = mockExecuteContext({
			helpers: {
				httpRequestWithAuthentication: async () => {
					await new Promise((resolve) => setTimeout(resolve, 700));
					return { statusCode: 200, headers: {}, body: stream };
				},
			},
		});
		const state = track(makeN8nSend(ctx, 'khaosControlApi')(request()));
		await jest.advanceTimersByTimeAsync(700);
		await flush();
		expect(stream.listenerCount('data')).toBe(1);
		await jest.advanceTimersByTimeAsync(299);
		expect(state.done).toBe(false);
		await jest.advanceTimersByTimeAsync(1);
		expect(state.error).toMatchObject({ kind: 'timeout', retryable: true });
		expect(stream.destroy).toHaveBeenCalled();
	});

	it('a normal body resolves, the deadline timer is cleared, and nothing fires later', async () => {
		const stream = new FakeStream();
		const state = track(
			sendAnswering(() => ({
				statusCode: 500,
				headers: { 'content-type': 'text/xml' },
				body: stream,
			}))(request()),
		);
		await flush();
		expect(jest.getTimerCount()).toBe(1);
		stream.emit('data', Buffer.from('<a>é'));
		await jest.advanceTimersByTimeAsync(990);
		stream.emit('data', '</a>');
		stream.emit('end');
		stream.emit('close');
		await flush();
		expect(state).toEqual({
			done: true,
			value: { status: 500, headers: { 'content-type': 'text/xml' }, body: '<a>é</a>' },
		});
		expect(jest.getTimerCount()).toBe(0);
		await jest.advanceTimersByTimeAsync(5000);
		expect(stream.destroy).not.toHaveBeenCalled();
	});

	it.each([
		[
			'past the cap while streaming',
			(s: FakeStream) => s.emit('data', Buffer.alloc(1025, 0x61)),
			{ code: 'response_too_large', kind: 'protocol', retryable: false },
		],
		[
			'a stream error',
			(s: FakeStream) =>
				s.emit('error', Object.assign(new Error('aborted'), { code: 'ECONNRESET' })),
			{
				kind: 'network',
				retryable: true,
				message: 'connection failed while reading the response: ECONNRESET',
			},
		],
		[
			'closed before the end',
			(s: FakeStream) => s.emit('close'),
			{
				kind: 'network',
				retryable: true,
				message: 'connection closed before the response was complete',
			},
		],
	])('%s: rejected, stream destroyed, timer cleared', async (_label, act, expected) => {
		const stream = new FakeStream();
		const state = track(
			sendAnswering(() => ({ statusCode: 200, headers: {}, body: stream }))(request()),
		);
		await flush();
		act(stream);
		await flush();
		expect(state.done).toBe(true);
		expect(state.error).toMatchObject(expected);
		expect(stream.destroy).toHaveBeenCalled();
		expect(jest.getTimerCount()).toBe(0);
	});

	it('a Content-Length over the cap: rejected before reading, stream destroyed, no timer', async () => {
		const stream = new FakeStream();
		const state = track(
			sendAnswering(() => ({
				statusCode: 200,
				headers: { 'Content-Length': '4096' },
				body: stream,
			}))(request()),
		);
		await flush();
		expect(state.error).toBeInstanceOf(ResponseTooLargeError);
		expect(stream.destroy).toHaveBeenCalled();
		expect(jest.getTimerCount()).toBe(0);
	});

	it('a timeout of 0 is none (as for axios): no deadline timer, the body is read whole', async () => {
		const stream = new FakeStream();
		const state = track(
			sendAnswering(() => ({ statusCode: 200, headers: {}, body: stream }))(
				request({ timeoutMs: 0 }),
			),
		);
		await flush();
		expect(jest.getTimerCount()).toBe(0);
		stream.emit('data', '<a/>');
		stream.emit('end');
		await flush();
		expect(state.value).toMatchObject({ status: 200, body: '<a/>' });
	});

	it('a stream that was not asked for (no cap, text requested): rejected and destroyed', async () => {
		const stream = new FakeStream();
		const state = track(
			sendAnswering(() => ({ statusCode: 200, headers: {}, body: stream }))(
				request({ maxResponseBytes: undefined }),
			),
		);
		await flush();
		expect(state.error).toMatchObject({
			kind: 'protocol',
			retryable: false,
			message: 'the HTTP helper answered with a stream that was not asked for',
		});
		expect(stream.destroy).toHaveBeenCalled();
		expect(jest.getTimerCount()).toBe(0);
	});
});

describe('with a real node:stream Readable and real timers', () => {
	it('a body that never ends is cut off at timeoutMs and the Readable is destroyed', async () => {
		const stream = new Readable({ read() {} });
		stream.push('<a>');
		const send = sendAnswering(() => ({ statusCode: 200, headers: {}, body: stream }));
		const started = Date.now();
		const error = await send(request({ timeoutMs: 60 })).then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(error).toMatchObject({ kind: 'timeout', retryable: true });
		expect(Date.now() - started).toBeGreaterThanOrEqual(50);
		expect(stream.destroyed).toBe(true);
	});

	it('a stream that was not asked for is destroyed', async () => {
		const stream = new Readable({ read() {} });
		const send = sendAnswering(() => ({ statusCode: 200, headers: {}, body: stream }));
		await expect(send(request({ maxResponseBytes: undefined }))).rejects.toMatchObject({
			kind: 'protocol',
		});
		expect(stream.destroyed).toBe(true);
	});
});
