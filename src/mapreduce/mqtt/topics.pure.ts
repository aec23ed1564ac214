/**
 * The bridge's topic names (docs/mqtt.md): everything lives under `<prefix>/jobs/`, where the
 * prefix defaults to `tessera`. Ids become topic levels, so a level must be non-empty and free of
 * `/`, `+`, `#` and NUL; a reply topic must be a plain topic name outside the bridge's own
 * `<prefix>/jobs/` tree, so a submitter cannot make the bridge speak on a job's topics.
 */

/** The default topic prefix. */
export const DEFAULT_TOPIC_PREFIX = 'tessera';

/** MQTT's ceiling on a topic name's UTF-8 length. */
const MAX_TOPIC_BYTES = 65_535;

/** The topic names of one prefix. */
export interface JobTopics {
  readonly prefix: string;
  /** `<prefix>/jobs/submit`: where clients submit job specs. */
  readonly submit: string;
  /** `<prefix>/jobs/<id>/state`: a job's state (retained). */
  state(jobId: string): string;
  /** `<prefix>/jobs/<id>/tasks/<task_id>`: a task's state changes. */
  task(jobId: string, taskId: string): string;
  /** `<prefix>/jobs/<id>/progress`: tasks done per phase (throttled). */
  progress(jobId: string): string;
}

/** Whether `level` can stand as one topic level (non-empty; no `/`, `+`, `#`, NUL). */
export function isTopicLevel(level: string): boolean {
  return level.length > 0 && !/[/+#\0]/u.test(level);
}

/** Whether `prefix` is a usable prefix: one or more levels, no wildcards, no leading `$`. */
export function isTopicPrefix(prefix: string): boolean {
  return !prefix.startsWith('$') && prefix.split('/').every(isTopicLevel);
}

/** The topics under `prefix`; throws on a prefix that is not a plain topic name. */
export function jobTopics(prefix: string = DEFAULT_TOPIC_PREFIX): JobTopics {
  if (!isTopicPrefix(prefix)) {
    throw new RangeError(`invalid MQTT topic prefix ${JSON.stringify(prefix)}`);
  }
  const jobs = `${prefix}/jobs`;
  return {
    prefix,
    submit: `${jobs}/submit`,
    state: (jobId) => `${jobs}/${jobId}/state`,
    task: (jobId, taskId) => `${jobs}/${jobId}/tasks/${taskId}`,
    progress: (jobId) => `${jobs}/${jobId}/progress`,
  };
}

/**
 * Why `topic` cannot be a reply topic under `topics`, or undefined when it can: a plain topic
 * name (no wildcards, no NUL, not `$`-reserved, at most 65535 bytes) outside `<prefix>/jobs/`.
 */
export function replyTopicProblem(topic: string, topics: JobTopics): string | undefined {
  if (topic.length === 0) return 'reply topic is empty';
  if (/[+#\0]/u.test(topic)) return 'reply topic has a wildcard or NUL';
  if (topic.startsWith('$')) return 'reply topic starts with $ (reserved)';
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return 'reply topic is too long';
  if (topic === `${topics.prefix}/jobs` || topic.startsWith(`${topics.prefix}/jobs/`)) {
    return `reply topic lies in the bridge's own tree ${topics.prefix}/jobs/`;
  }
  return undefined;
}
