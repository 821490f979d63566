/**
 * `atelier train`'s flags, derived from the options table (core/api/train-options.ts): which flags
 * exist, their --help lines, and turning what was typed into TrainSettings checked exactly as a
 * request from the studio is (the contract's schema), with messages that name the flag.
 */
import { methods, OPTION_KEYS, TRAIN_OPTIONS, blankWords, type TrainOption, type TrainOptionKey, type TrainSettings } from '../api/contract.js';
import { UserError } from '../api/errors.js';

/** The options that have a flag, in the table's order. */
const FLAGGED = OPTION_KEYS.filter((k) => TRAIN_OPTIONS[k].flag !== undefined);

/** parseArgs' option config for every training flag. */
export function trainFlagConfig(): Record<string, { type: 'string' }> {
  return Object.fromEntries(FLAGGED.map((k) => [TRAIN_OPTIONS[k].flag!, { type: 'string' as const }]));
}

/** `--flag` of an option key (for messages); the key itself when it has no flag. */
export function flagOf(key: string): string {
  const o = (TRAIN_OPTIONS as Record<string, TrainOption>)[key];
  return o?.flag !== undefined ? `--${o.flag}` : key;
}

/** The flags among `values` that set a training option (what --resume refuses). */
export function givenTrainFlags(values: Record<string, unknown>): string[] {
  return FLAGGED.filter((k) => values[TRAIN_OPTIONS[k].flag!] !== undefined).map((k) => `--${TRAIN_OPTIONS[k].flag}`);
}

/** Words wrapped to `width` columns, continuation lines indented by `indent`. */
function wrap(text: string, indent: number, width = 100): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  out.push(line);
  return out.join(`\n${' '.repeat(indent)}`);
}

/** The --help lines of the training options: flag, value, what it does, its default. */
export function trainOptionsUsage(): string {
  const INDENT = 24;
  return FLAGGED.map((k) => {
    const o: TrainOption = TRAIN_OPTIONS[k];
    const head = `  --${o.flag}${o.metavar ? ` ${o.metavar}` : ''}`;
    let what = o.cli ?? `${o.help.charAt(0).toLowerCase()}${o.help.slice(1)}`.replace(/\.$/, '');
    if (o.type === 'choice' && o.accepts === undefined && o.cli === undefined) what += `: ${o.choices.map((c) => c.value).join(', ')}`;
    const blank = blankWords(o);
    const def = blank !== null && !/\(default/.test(what) ? ` (default: ${blank})` : '';
    const only = o.augmentOnly ? '; presets that augment only' : '';
    const text = `${what}${def}${only}`;
    return head.length >= INDENT ? `${head}\n${' '.repeat(INDENT)}${wrap(text, INDENT)}` : `${head.padEnd(INDENT)}${wrap(text, INDENT)}`;
  }).join('\n');
}

function parseValue(key: TrainOptionKey, raw: string): unknown {
  const o: TrainOption = TRAIN_OPTIONS[key];
  const flag = `--${o.flag}`;
  switch (o.type) {
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UserError('invalid-request', `${flag} must be a number, not "${raw}".`, flag);
      return n;
    }
    case 'boolean':
      if (/^(yes|true|on|1)$/i.test(raw)) return true;
      if (/^(no|false|off|0)$/i.test(raw)) return false;
      throw new UserError('invalid-request', `${flag} takes yes or no, not "${raw}".`, flag);
    case 'run-ref': {
      const m = /^(\d+)(?::(\d+))?$/.exec(raw);
      if (!m) throw new UserError('invalid-request', `${flag} takes a run number, optionally with a checkpoint id (RUN or RUN:CHECKPOINT), not "${raw}".`, flag);
      return m[2] === undefined ? { runId: Number(m[1]) } : { runId: Number(m[1]), checkpointId: Number(m[2]) };
    }
    default:
      return raw;
  }
}

/**
 * TrainSettings from the typed flags: main settings at the top, the rest under `advanced`;
 * `defaults` fill what must be given (the duration). Checked with the contract's own schema.
 */
export function settingsFromFlags(values: Record<string, unknown>, defaults: Partial<TrainSettings>): TrainSettings {
  const top: Record<string, unknown> = { ...defaults };
  const advanced: Record<string, unknown> = {};
  for (const k of FLAGGED) {
    const raw = values[TRAIN_OPTIONS[k].flag!];
    if (raw === undefined) continue;
    (TRAIN_OPTIONS[k].advanced ? advanced : top)[k] = parseValue(k, String(raw));
  }
  const settings = { ...top, ...(Object.keys(advanced).length > 0 ? { advanced } : {}) } as TrainSettings;
  const checked = methods['train.start'].params.safeParse(settings);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const key = String(issue?.path.at(-1) ?? 'settings');
    throw new UserError('invalid-request', `${flagOf(key)}: ${issue?.message ?? 'invalid'}`, flagOf(key));
  }
  return settings;
}
