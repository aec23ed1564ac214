// Rule checked (issue 5, "Interfaces": jobs accepted from tessera/jobs/submit; docs/mqtt.md,
// "Submitting jobs"): the payload is the job spec as a JSON object; `reply_to` and
// `correlation_id` are taken out of it before the spec is submitted; an MQTT v5 Response Topic
// wins over `reply_to` and its Correlation Data is echoed; malformed payloads become problems
// (400/413) answered only when a reply topic is known; a reply topic cannot be a wildcard nor lie
// in the bridge's own `<prefix>/jobs/` tree; errors keep their catalog status, others are 500.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../../src/core/errors.js';
import {
  acceptedBody,
  parseSubmission,
  problemOf,
  refusedBody,
} from '../../../src/mapreduce/mqtt/submission.pure.js';
import { jobTopics, replyTopicProblem } from '../../../src/mapreduce/mqtt/topics.pure.js';

const topics = jobTopics('tessera');
const parse = (text: string, properties?: { responseTopic?: string; correlationData?: Buffer }) =>
  parseSubmission(Buffer.from(text), properties, topics, 1024);

describe('parseSubmission', () => {
  test('takes reply_to and correlation_id out of the spec', () => {
    const parsed = parse(
      JSON.stringify({
        builtin: 'wordcount',
        input: ['/a'],
        output: '/o',
        reply_to: 'me/r',
        correlation_id: 7,
      }),
    );
    assert.deepEqual(parsed, {
      ok: true,
      spec: { builtin: 'wordcount', input: ['/a'], output: '/o' },
      reply: { topic: 'me/r', correlationId: 7 },
    });
  });

  test('takes the submitter token out of the spec; a token that is not a string is refused', () => {
    const parsed = parse(JSON.stringify({ input: ['/a'], output: '/o', token: 'eyJ.x.y' }));
    assert.deepEqual(parsed, { ok: true, spec: { input: ['/a'], output: '/o' }, token: 'eyJ.x.y' });
    const bad = parse(JSON.stringify({ input: ['/a'], output: '/o', token: 7, reply_to: 'me/r' }));
    assert.equal(bad.ok, false);
    assert.equal(bad.ok ? 0 : bad.problem.status, 400);
  });

  test('without a reply topic, no answer is routed', () => {
    assert.deepEqual(parse('{"output":"/o"}'), { ok: true, spec: { output: '/o' } });
  });

  test('the v5 Response Topic wins and its Correlation Data is kept', () => {
    const correlationData = Buffer.from([1, 2, 3]);
    const parsed = parse('{"reply_to":"other/topic"}', {
      responseTopic: 'v5/reply',
      correlationData,
    });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.reply, { topic: 'v5/reply', correlationData });
  });

  test('malformed JSON is 400 MALFORMED_BODY, answered on the v5 Response Topic', () => {
    const parsed = parse('{not json', { responseTopic: 'v5/reply' });
    assert.equal(parsed.ok, false);
    assert.equal(parsed.ok ? 0 : parsed.problem.status, 400);
    assert.equal(parsed.ok ? '' : parsed.problem.code, 'MALFORMED_BODY');
    assert.equal(parsed.reply?.topic, 'v5/reply');
  });

  test('malformed JSON without a v5 Response Topic has nobody to answer', () => {
    const parsed = parse('{not json');
    assert.equal(parsed.ok, false);
    assert.equal(parsed.reply, undefined);
  });

  for (const text of ['[1,2]', '"spec"', 'null', '42']) {
    test(`a JSON ${text} is not a spec: 400`, () => {
      const parsed = parse(text, { responseTopic: 'r' });
      assert.equal(parsed.ok ? 0 : parsed.problem.status, 400);
    });
  }

  test('an oversized payload is 413', () => {
    const parsed = parseSubmission(Buffer.alloc(2000, 32), { responseTopic: 'r' }, topics, 1024);
    assert.equal(parsed.ok ? 0 : parsed.problem.status, 413);
  });

  test('a bad correlation_id is 400, still answered', () => {
    const parsed = parse('{"reply_to":"me/r","correlation_id":{"a":1}}');
    assert.equal(parsed.ok ? 0 : parsed.problem.status, 400);
    assert.deepEqual(parsed.reply, { topic: 'me/r' });
  });

  test('a non-string reply_to is refused with no answer', () => {
    const parsed = parse('{"reply_to":5}');
    assert.equal(parsed.ok, false);
    assert.equal(parsed.reply, undefined);
  });

  test("a reply topic in the bridge's own tree is refused with no answer", () => {
    for (const replyTo of [
      'tessera/jobs/submit',
      'tessera/jobs/job-1/state',
      'a/+/b',
      'x/#',
      '$SYS/x',
      '',
    ]) {
      const parsed = parse(JSON.stringify({ reply_to: replyTo }));
      assert.equal(parsed.ok, false, replyTo);
      assert.equal(parsed.reply, undefined, replyTo);
    }
  });
});

describe('answers', () => {
  test('bodies echo the correlation id', () => {
    assert.deepEqual(JSON.parse(acceptedBody('job-1', { topic: 'r', correlationId: 'c' })), {
      id: 'job-1',
      correlation_id: 'c',
    });
    assert.deepEqual(JSON.parse(acceptedBody('job-1', { topic: 'r' })), { id: 'job-1' });
    const body = JSON.parse(
      refusedBody(
        { status: 400, title: 'Bad request', detail: 'd', code: 'BAD_REQUEST' },
        { topic: 'r' },
      ),
    ) as unknown;
    assert.deepEqual(body, {
      error: { status: 400, title: 'Bad request', detail: 'd', code: 'BAD_REQUEST' },
    });
  });

  test('cataloged errors keep their status; others are 500 without internals', () => {
    assert.deepEqual(problemOf(new BadRequestError('invalid job spec at /output')), {
      status: 400,
      title: 'Bad request',
      detail: 'invalid job spec at /output',
      code: 'BAD_REQUEST',
    });
    const internal = problemOf(new Error('secret path /var/x'));
    assert.equal(internal.status, 500);
    assert.ok(!internal.detail.includes('secret'));
  });
});

describe('topics', () => {
  test('names and reply-topic rules', () => {
    const acme = jobTopics('acme/mr');
    assert.equal(acme.submit, 'acme/mr/jobs/submit');
    assert.equal(acme.state('j'), 'acme/mr/jobs/j/state');
    assert.equal(acme.task('j', 't'), 'acme/mr/jobs/j/tasks/t');
    assert.equal(acme.progress('j'), 'acme/mr/jobs/j/progress');
    assert.equal(replyTopicProblem('tessera/jobs/submit', acme), undefined);
    assert.notEqual(replyTopicProblem('acme/mr/jobs/x', acme), undefined);
    assert.throws(() => jobTopics('a/+/b'));
    assert.throws(() => jobTopics(''));
  });
});
