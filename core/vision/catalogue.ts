/**
 * The judges' backbones as the studio shows them to people: title, licence, training data and
 * native input. Kept apart from zoo.ts (which loads them with TensorFlow.js) so the service can
 * list them without loading TensorFlow.js; zoo.ts takes these strings from here.
 */
import type { BackboneId, BackboneInfo } from '../api/vision.js';

const NSFWJS_DATA = 'ImageNet (pretraining), then nsfwjs’ ~60,000 web images in 5 classes (drawing, hentai, neutral, porn, sexy)';

export const BACKBONE_INFOS: readonly BackboneInfo[] = [
  {
    id: 'mobilenetv2',
    title: 'MobileNetV2 ×1.4 (nsfwjs “mid”)',
    licence: 'MIT (nsfwjs); base network Apache-2.0 (TensorFlow Hub MobileNetV2)',
    trainingData: NSFWJS_DATA,
    nativeInput: 224,
  },
  {
    id: 'mobilenetv2-1.0',
    title: 'MobileNetV2 ×1.0 (nsfwjs)',
    licence: 'MIT (nsfwjs); base network Apache-2.0 (Keras Applications MobileNetV2)',
    trainingData: NSFWJS_DATA,
    nativeInput: 224,
  },
  {
    id: 'inception',
    title: 'InceptionV3 (nsfwjs)',
    licence: 'MIT (nsfwjs); base network Apache-2.0 (Keras Applications InceptionV3)',
    trainingData: NSFWJS_DATA,
    nativeInput: 299,
  },
  {
    id: 'centernet',
    title: 'CenterNet on MobileNetV3 (@vladmandic/human, COCO objects)',
    licence: 'MIT (@vladmandic/human); CenterNet/MobileNetV3 weights as converted there',
    trainingData: 'COCO (object detection, 80 classes), on an ImageNet-pretrained MobileNetV3',
    nativeInput: 512,
  },
];

/** A backbone's people-facing strings. */
export function backboneInfo(id: BackboneId): BackboneInfo {
  const info = BACKBONE_INFOS.find((b) => b.id === id);
  if (info === undefined) throw new Error(`No catalogue entry for backbone ${id}.`);
  return info;
}
