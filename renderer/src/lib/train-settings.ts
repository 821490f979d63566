/**
 * The new-run form's fields, from the options table (core/api/train-options.ts: label, help,
 * range and default of every option, declared once), and the parsing of what was typed into
 * `TrainSettings`. A blank field leaves the option to the studio (the preset and the dataset
 * decide; core/train/config.ts).
 */
import type { BackendChoiceName, TrainAdvanced } from '../../../core/api/contract.js';
import { BACKBONE_IDS } from '../../../core/api/vision.js';
import {
  type ChoiceOption,
  numberProblem,
  type NumberOption,
  OPTION_KEYS,
  optionHelp,
  type OptionGroup,
  TRAIN_OPTIONS,
  type TrainOptionKey,
  type TextOption,
  type TrainOptions,
} from '../../../core/api/train-options.js';

export { numberProblem } from '../../../core/api/train-options.js';
export { BACKEND_CHOICES } from '../../../core/api/vocabulary.js';

/** What each backend is, for people (the options table's menu). */
export function backendName(backend: string): string {
  return TRAIN_OPTIONS.backend.choices.find((c) => c.value === backend)?.label ?? backend;
}

/** Where a backend runs, in plain words: "your processor, 2 cores (wasm)"; the backend's name stays in brackets for those who know it. */
export function backendPlain(backend: string, cores?: number | null): string {
  const processor = `your processor${cores ? `, ${cores} ${cores === 1 ? 'core' : 'cores'}` : ''}`;
  switch (backend) {
    case 'wasm':
      return `${processor} (wasm)`;
    case 'cpu':
      return `${processor}, slowest mode (cpu)`;
    case 'tensorflow':
      return `${processor} (tensorflow)`;
    case 'webgpu':
      return 'your graphics card (webgpu)';
    case 'tensorflow-gpu':
      return 'your NVIDIA graphics card (tensorflow-gpu)';
    default:
      return backend;
  }
}

/** The advanced options typed as numbers. */
export type NumericKey = { [K in TrainOptionKey]: TrainOptions[K] extends { type: 'number'; advanced: true } ? K : never }[TrainOptionKey] & keyof TrainAdvanced;
/** The advanced options picked from a menu. */
export type ChoiceKey = { [K in TrainOptionKey]: TrainOptions[K] extends { type: 'choice'; advanced: true } ? K : never }[TrainOptionKey] & keyof TrainAdvanced;

/** The advanced options typed as text (the vision-aided preset's lists). */
export type TextKey = { [K in TrainOptionKey]: TrainOptions[K] extends { type: 'text'; advanced: true } ? K : never }[TrainOptionKey] & keyof TrainAdvanced;

export interface NumericField extends NumberOption {
  key: NumericKey;
  /** The help with what blank means. */
  help: string;
}

export interface ChoiceField extends ChoiceOption {
  key: ChoiceKey;
}

export interface TextField extends TextOption {
  key: TextKey;
  /** The help with what blank means. */
  help: string;
}

/** Advanced-panel groups (transfer learning has its own section in the form). */
export type AdvancedGroup = Exclude<OptionGroup, 'run' | 'transfer'>;

const isAdvancedGroup = (g: OptionGroup): g is AdvancedGroup => g !== 'run' && g !== 'transfer';

/** The advanced number fields, in the table's order. */
export const NUMERIC_FIELDS: readonly NumericField[] = OPTION_KEYS.flatMap((key) => {
  const o = TRAIN_OPTIONS[key];
  return o.type === 'number' && o.advanced && isAdvancedGroup(o.group) ? [{ ...o, key: key as NumericKey, help: optionHelp(o) }] : [];
});

/** The advanced menus, in the table's order. */
export const CHOICE_FIELDS: readonly ChoiceField[] = OPTION_KEYS.flatMap((key) => {
  const o = TRAIN_OPTIONS[key];
  return o.type === 'choice' && o.advanced && isAdvancedGroup(o.group) ? [{ ...(o as ChoiceOption), key: key as ChoiceKey }] : [];
});

/** The advanced text fields, in the table's order. */
export const TEXT_FIELDS: readonly TextField[] = OPTION_KEYS.flatMap((key) => {
  const o = TRAIN_OPTIONS[key];
  return o.type === 'text' && o.advanced && isAdvancedGroup(o.group) ? [{ ...(o as TextOption), key: key as TextKey, help: optionHelp(o) }] : [];
});

/**
 * What is wrong with a text field's value, or null: its length, and for the vision lists their
 * form (the names of the bundled networks; rising kimg). The service checks the rest (that each
 * point lies inside the run) and says so when the run is started.
 */
export function textProblem(field: Pick<TextField, 'key' | 'label' | 'maxLength'>, text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  if (t.length > field.maxLength) return `${field.label}: at most ${field.maxLength} characters.`;
  if (field.key === 'visionBackbones') {
    if (t === 'auto') return null;
    const ids = t.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = ids.find((id) => !(BACKBONE_IDS as readonly string[]).includes(id));
    if (unknown !== undefined) return `${field.label}: there is no bundled network "${unknown}". Use auto, or some of ${BACKBONE_IDS.join(', ')}.`;
    if (new Set(ids).size !== ids.length) return `${field.label}: a network is named twice.`;
  }
  if (field.key === 'visionSelectAt') {
    const parts = t.split(',').map((s) => s.trim());
    const values = parts.map(Number);
    if (parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v) || v <= 0)) return `${field.label}: "${t}" is not a list of kimg like 5,10,15.`;
    if (values.some((v, i) => i > 0 && v <= values[i - 1]!)) return `${field.label}: the points must rise.`;
  }
  return null;
}

/** The pipeline menu (ADA's pipelines, then DiffAugment). */
export const AUG_PIPES = TRAIN_OPTIONS.augPipe.choices;

/** What the advanced panel holds: the text of each number field, and the value of each menu by its key ('' = blank). */
export type AdvancedInput = { numbers: Record<NumericKey, string>; texts: Record<TextKey, string> } & Record<ChoiceKey, string>;

export function blankAdvanced(): AdvancedInput {
  const numbers = Object.fromEntries(NUMERIC_FIELDS.map((f) => [f.key, ''])) as Record<NumericKey, string>;
  const texts = Object.fromEntries(TEXT_FIELDS.map((f) => [f.key, ''])) as Record<TextKey, string>;
  return { numbers, texts, ...(Object.fromEntries(CHOICE_FIELDS.map((f) => [f.key, ''])) as Record<ChoiceKey, string>) };
}

/** Whether a field applies: the augmentation options only to a preset that augments, and DiffAugment takes no strength settings; the vision options only to the vision-aided preset. */
export function applies(field: NumericField | ChoiceField | TextField, input: AdvancedInput, augments: boolean, vision = false): boolean {
  if (field.visionOnly === true && !vision) return false;
  if (field.augmentOnly !== true) return true;
  if (!augments) return false;
  return field.type === 'choice' || input.augPipe !== 'diffaugment';
}

/**
 * The advanced options that were set, and the problems with the ones that cannot be used. Only the
 * fields that apply count (see `applies`).
 */
export function parseAdvanced(input: AdvancedInput, augments = false, vision = false): { advanced: TrainAdvanced; problems: string[] } {
  const advanced: Record<string, number | string> = {};
  const problems: string[] = [];
  for (const f of NUMERIC_FIELDS) {
    if (!applies(f, input, augments, vision)) continue;
    const text = input.numbers[f.key];
    const problem = numberProblem(f, text);
    if (problem) problems.push(problem);
    else if (text.trim() !== '') advanced[f.key] = Number(text);
  }
  for (const f of CHOICE_FIELDS) {
    if (applies(f, input, augments, vision) && input[f.key] !== '') advanced[f.key] = input[f.key];
  }
  for (const f of TEXT_FIELDS) {
    if (!applies(f, input, augments, vision)) continue;
    const text = input.texts[f.key].trim();
    const problem = textProblem(f, text);
    if (problem) problems.push(problem);
    else if (text !== '') advanced[f.key] = text;
  }
  return { advanced: advanced as TrainAdvanced, problems };
}

/** The choice a backend menu offers, checked against the table's list. */
export function isBackendChoice(value: string): value is BackendChoiceName {
  return TRAIN_OPTIONS.backend.choices.some((c) => c.value === value);
}
