export interface PlayRole {
  name: string;
  /** vars given in the play; lowest precedence after the role's own defaults */
  vars: Record<string, unknown>;
}

export interface Play {
  index: number;
  name: string;
  pattern: string;
  roles: PlayRole[];
  /** batch size as given: a count or a percentage of the play's hosts */
  serial?: { count: number } | { percent: number };
  maxFailPercentage?: number;
  tags: string[];
}

export interface Playbook {
  file: string;
  plays: Play[];
  lineOf(at: (string | number)[]): number | undefined;
}
