/** The augmentation stage in front of D (reals and fakes alike); ADA and DiffAugment plug in here. */
export interface AugmentConfig {
  kind: 'none' | 'ada' | 'diffaugment';
  /** ADA pipeline name ('bgc', …) or DiffAugment policy ('color,translation,cutout'). */
  pipe?: string;
  /** Fixed strength p, or null to adapt it toward `target`. */
  p?: number | null;
  /** r_t target of the adaptive heuristic. */
  target?: number;
  /** kimg for p to go from 0 to 1 at the fastest. */
  speedKimg?: number;
}
