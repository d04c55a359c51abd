/**
 * The arXiv category taxonomy as data: every category code the labelled data
 * holds (and the classifier can predict), with its human name and its group,
 * after https://arxiv.org/category_taxonomy. Old archive codes that predate the
 * subject classes (`astro-ph`, `cond-mat`, `funct-an`, `solv-int`) are listed
 * too, since old papers carry them.
 */

export interface CategoryInfo {
  code: string;
  name: string;
  group: string;
}

const CS = 'Computer Science';
const ECON = 'Economics';
const EESS = 'Electrical Engineering and Systems Science';
const MATH = 'Mathematics';
const PHYS = 'Physics';
const QBIO = 'Quantitative Biology';
const QFIN = 'Quantitative Finance';
const STAT = 'Statistics';

/** code → [name, group]. */
const CATEGORIES: Readonly<Record<string, readonly [string, string]>> = {
  'cs.AI': ['Artificial Intelligence', CS],
  'cs.AR': ['Hardware Architecture', CS],
  'cs.CC': ['Computational Complexity', CS],
  'cs.CE': ['Computational Engineering, Finance, and Science', CS],
  'cs.CG': ['Computational Geometry', CS],
  'cs.CL': ['Computation and Language', CS],
  'cs.CR': ['Cryptography and Security', CS],
  'cs.CV': ['Computer Vision and Pattern Recognition', CS],
  'cs.CY': ['Computers and Society', CS],
  'cs.DB': ['Databases', CS],
  'cs.DC': ['Distributed, Parallel, and Cluster Computing', CS],
  'cs.DL': ['Digital Libraries', CS],
  'cs.DM': ['Discrete Mathematics', CS],
  'cs.DS': ['Data Structures and Algorithms', CS],
  'cs.ET': ['Emerging Technologies', CS],
  'cs.FL': ['Formal Languages and Automata Theory', CS],
  'cs.GL': ['General Literature', CS],
  'cs.GR': ['Graphics', CS],
  'cs.GT': ['Computer Science and Game Theory', CS],
  'cs.HC': ['Human-Computer Interaction', CS],
  'cs.IR': ['Information Retrieval', CS],
  'cs.IT': ['Information Theory', CS],
  'cs.LG': ['Machine Learning', CS],
  'cs.LO': ['Logic in Computer Science', CS],
  'cs.MA': ['Multiagent Systems', CS],
  'cs.MM': ['Multimedia', CS],
  'cs.MS': ['Mathematical Software', CS],
  'cs.NA': ['Numerical Analysis', CS],
  'cs.NE': ['Neural and Evolutionary Computing', CS],
  'cs.NI': ['Networking and Internet Architecture', CS],
  'cs.OH': ['Other Computer Science', CS],
  'cs.OS': ['Operating Systems', CS],
  'cs.PF': ['Performance', CS],
  'cs.PL': ['Programming Languages', CS],
  'cs.RO': ['Robotics', CS],
  'cs.SC': ['Symbolic Computation', CS],
  'cs.SD': ['Sound', CS],
  'cs.SE': ['Software Engineering', CS],
  'cs.SI': ['Social and Information Networks', CS],
  'cs.SY': ['Systems and Control', CS],

  'econ.EM': ['Econometrics', ECON],
  'econ.GN': ['General Economics', ECON],
  'econ.TH': ['Theoretical Economics', ECON],

  'eess.AS': ['Audio and Speech Processing', EESS],
  'eess.IV': ['Image and Video Processing', EESS],
  'eess.SP': ['Signal Processing', EESS],
  'eess.SY': ['Systems and Control', EESS],

  'math.AC': ['Commutative Algebra', MATH],
  'math.AG': ['Algebraic Geometry', MATH],
  'math.AP': ['Analysis of PDEs', MATH],
  'math.AT': ['Algebraic Topology', MATH],
  'math.CA': ['Classical Analysis and ODEs', MATH],
  'math.CO': ['Combinatorics', MATH],
  'math.CT': ['Category Theory', MATH],
  'math.CV': ['Complex Variables', MATH],
  'math.DG': ['Differential Geometry', MATH],
  'math.DS': ['Dynamical Systems', MATH],
  'math.FA': ['Functional Analysis', MATH],
  'math.GM': ['General Mathematics', MATH],
  'math.GN': ['General Topology', MATH],
  'math.GR': ['Group Theory', MATH],
  'math.GT': ['Geometric Topology', MATH],
  'math.HO': ['History and Overview', MATH],
  'math.IT': ['Information Theory', MATH],
  'math.KT': ['K-Theory and Homology', MATH],
  'math.LO': ['Logic', MATH],
  'math.MG': ['Metric Geometry', MATH],
  'math.MP': ['Mathematical Physics', MATH],
  'math.NA': ['Numerical Analysis', MATH],
  'math.NT': ['Number Theory', MATH],
  'math.OA': ['Operator Algebras', MATH],
  'math.OC': ['Optimization and Control', MATH],
  'math.PR': ['Probability', MATH],
  'math.QA': ['Quantum Algebra', MATH],
  'math.RA': ['Rings and Algebras', MATH],
  'math.RT': ['Representation Theory', MATH],
  'math.SG': ['Symplectic Geometry', MATH],
  'math.SP': ['Spectral Theory', MATH],
  'math.ST': ['Statistics Theory', MATH],
  'funct-an': ['Functional Analysis (old archive)', MATH],

  'astro-ph': ['Astrophysics', PHYS],
  'astro-ph.CO': ['Cosmology and Nongalactic Astrophysics', PHYS],
  'astro-ph.EP': ['Earth and Planetary Astrophysics', PHYS],
  'astro-ph.GA': ['Astrophysics of Galaxies', PHYS],
  'astro-ph.HE': ['High Energy Astrophysical Phenomena', PHYS],
  'astro-ph.IM': ['Instrumentation and Methods for Astrophysics', PHYS],
  'astro-ph.SR': ['Solar and Stellar Astrophysics', PHYS],
  'cond-mat': ['Condensed Matter', PHYS],
  'cond-mat.dis-nn': ['Disordered Systems and Neural Networks', PHYS],
  'cond-mat.mes-hall': ['Mesoscale and Nanoscale Physics', PHYS],
  'cond-mat.mtrl-sci': ['Materials Science', PHYS],
  'cond-mat.other': ['Other Condensed Matter', PHYS],
  'cond-mat.quant-gas': ['Quantum Gases', PHYS],
  'cond-mat.soft': ['Soft Condensed Matter', PHYS],
  'cond-mat.stat-mech': ['Statistical Mechanics', PHYS],
  'cond-mat.str-el': ['Strongly Correlated Electrons', PHYS],
  'cond-mat.supr-con': ['Superconductivity', PHYS],
  'gr-qc': ['General Relativity and Quantum Cosmology', PHYS],
  'hep-ex': ['High Energy Physics - Experiment', PHYS],
  'hep-lat': ['High Energy Physics - Lattice', PHYS],
  'hep-ph': ['High Energy Physics - Phenomenology', PHYS],
  'hep-th': ['High Energy Physics - Theory', PHYS],
  'math-ph': ['Mathematical Physics', PHYS],
  'nlin.AO': ['Adaptation and Self-Organizing Systems', PHYS],
  'nlin.CD': ['Chaotic Dynamics', PHYS],
  'nlin.CG': ['Cellular Automata and Lattice Gases', PHYS],
  'nlin.PS': ['Pattern Formation and Solitons', PHYS],
  'nlin.SI': ['Exactly Solvable and Integrable Systems', PHYS],
  'solv-int': ['Exactly Solvable and Integrable Systems (old archive)', PHYS],
  'nucl-ex': ['Nuclear Experiment', PHYS],
  'nucl-th': ['Nuclear Theory', PHYS],
  'physics.acc-ph': ['Accelerator Physics', PHYS],
  'physics.ao-ph': ['Atmospheric and Oceanic Physics', PHYS],
  'physics.app-ph': ['Applied Physics', PHYS],
  'physics.atm-clus': ['Atomic and Molecular Clusters', PHYS],
  'physics.atom-ph': ['Atomic Physics', PHYS],
  'physics.bio-ph': ['Biological Physics', PHYS],
  'physics.chem-ph': ['Chemical Physics', PHYS],
  'physics.class-ph': ['Classical Physics', PHYS],
  'physics.comp-ph': ['Computational Physics', PHYS],
  'physics.data-an': ['Data Analysis, Statistics and Probability', PHYS],
  'physics.ed-ph': ['Physics Education', PHYS],
  'physics.flu-dyn': ['Fluid Dynamics', PHYS],
  'physics.gen-ph': ['General Physics', PHYS],
  'physics.geo-ph': ['Geophysics', PHYS],
  'physics.hist-ph': ['History and Philosophy of Physics', PHYS],
  'physics.ins-det': ['Instrumentation and Detectors', PHYS],
  'physics.med-ph': ['Medical Physics', PHYS],
  'physics.optics': ['Optics', PHYS],
  'physics.plasm-ph': ['Plasma Physics', PHYS],
  'physics.pop-ph': ['Popular Physics', PHYS],
  'physics.soc-ph': ['Physics and Society', PHYS],
  'physics.space-ph': ['Space Physics', PHYS],
  'quant-ph': ['Quantum Physics', PHYS],

  'q-bio.BM': ['Biomolecules', QBIO],
  'q-bio.CB': ['Cell Behavior', QBIO],
  'q-bio.GN': ['Genomics', QBIO],
  'q-bio.MN': ['Molecular Networks', QBIO],
  'q-bio.NC': ['Neurons and Cognition', QBIO],
  'q-bio.OT': ['Other Quantitative Biology', QBIO],
  'q-bio.PE': ['Populations and Evolution', QBIO],
  'q-bio.QM': ['Quantitative Methods', QBIO],
  'q-bio.SC': ['Subcellular Processes', QBIO],
  'q-bio.TO': ['Tissues and Organs', QBIO],

  'q-fin.CP': ['Computational Finance', QFIN],
  'q-fin.EC': ['Economics', QFIN],
  'q-fin.GN': ['General Finance', QFIN],
  'q-fin.MF': ['Mathematical Finance', QFIN],
  'q-fin.PM': ['Portfolio Management', QFIN],
  'q-fin.PR': ['Pricing of Securities', QFIN],
  'q-fin.RM': ['Risk Management', QFIN],
  'q-fin.ST': ['Statistical Finance', QFIN],
  'q-fin.TR': ['Trading and Market Microstructure', QFIN],

  'stat.AP': ['Applications', STAT],
  'stat.CO': ['Computation', STAT],
  'stat.ME': ['Methodology', STAT],
  'stat.ML': ['Machine Learning', STAT],
  'stat.OT': ['Other Statistics', STAT],
  'stat.TH': ['Statistics Theory', STAT],
};

/**
 * Codes arXiv treats as one category under two names. The classifier learns
 * and predicts the canonical code only, so one subject does not take two of
 * the five places.
 */
export const CATEGORY_ALIASES: Readonly<Record<string, string>> = {
  'math.MP': 'math-ph',
  'cs.NA': 'math.NA',
  'cs.SY': 'eess.SY',
  'math.IT': 'cs.IT',
  'stat.TH': 'math.ST',
  'q-fin.EC': 'econ.GN',
};

/** The canonical code for `code` (itself unless it is an alias). */
export function canonicalCategory(code: string): string {
  return Object.hasOwn(CATEGORY_ALIASES, code) ? (CATEGORY_ALIASES[code] as string) : code;
}

/** Archive prefix (before the first dot) → group, for codes missing from the table. */
const GROUP_OF_ARCHIVE: Readonly<Record<string, string>> = {
  cs: CS,
  econ: ECON,
  eess: EESS,
  math: MATH,
  'q-bio': QBIO,
  'q-fin': QFIN,
  stat: STAT,
};

const PHYSICS_ARCHIVE =
  /^(?:physics|astro-ph|cond-mat|gr-qc|hep-[a-z]+|math-ph|nlin|nucl-[a-z]+|quant-ph|chao-dyn|patt-sol|adap-org|comp-gas|acc-phys|ao-sci|atom-ph|bayes-an|chem-ph|plasm-ph|supr-con|mtrl-th)$/;

// Maps, not object lookups: a code such as "constructor" must not find Object.prototype.
const TABLE = new Map(Object.entries(CATEGORIES));
const ARCHIVE_GROUPS = new Map(Object.entries(GROUP_OF_ARCHIVE));

/** Every code the taxonomy names. */
export const knownCategoryCodes: readonly string[] = Object.keys(CATEGORIES);

/**
 * Name and group of an arXiv category. Never throws: a code the table does not
 * know (a category arXiv adds later, a typo in a feed) is named by its own
 * code and grouped by its archive prefix (`cs.XX` → Computer Science; physics
 * archives such as `hep-xx`, `physics.xx` → Physics; anything else → "Other").
 */
export function describeCategory(code: string): CategoryInfo {
  const known = TABLE.get(code);
  if (known) return { code, name: known[0], group: known[1] };
  const archive = code.split('.')[0] ?? code;
  const group = ARCHIVE_GROUPS.get(archive) ?? (PHYSICS_ARCHIVE.test(archive) ? PHYS : 'Other');
  return { code, name: code, group };
}
