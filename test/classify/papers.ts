/** Realistic papers whose arXiv category is not in doubt, written for these tests. */
export const quantumErrorCorrection = {
  title: 'Fault-Tolerant Logical Qubits with Low-Overhead Quantum LDPC Codes',
  abstract:
    'Quantum error correction is essential for scalable quantum computation, but the surface code requires a large ' +
    'number of physical qubits per logical qubit. We study quantum low-density parity-check (LDPC) codes with ' +
    'constant encoding rate and show that, under a circuit-level depolarizing noise model, they achieve a ' +
    'fault-tolerance threshold comparable to the surface code. We construct syndrome extraction circuits for ' +
    'bivariate bicycle codes on hardware with long-range couplers, and a decoder based on belief propagation with ' +
    'ordered statistics post-processing. Numerical simulations show a logical error rate below 10^-8 with an order ' +
    'of magnitude fewer physical qubits than the surface code at the same code distance, bringing fault-tolerant ' +
    'quantum memory within reach of near-term devices with stabilizer measurements.',
};

export const visionTransformer = {
  title: 'Hierarchical Vision Transformers with Shifted Windows for Dense Image Prediction',
  abstract:
    'We present a hierarchical vision transformer backbone for image classification, object detection and ' +
    'semantic segmentation. Images are split into non-overlapping patches that are embedded as tokens, and ' +
    'self-attention is computed within local windows that shift between consecutive layers, which keeps the cost ' +
    'linear in image resolution while letting information flow across windows. Patch merging layers build a ' +
    'feature pyramid, so the backbone plugs into detectors and segmentation heads designed for convolutional ' +
    'networks. Pretrained on ImageNet, our model reaches 84.5% top-1 accuracy and surpasses convolutional ' +
    'backbones on COCO object detection and ADE20K semantic segmentation with fewer FLOPs.',
};

export const languageModelTranslation = {
  title: 'Improving Low-Resource Machine Translation with Multilingual Large Language Models',
  abstract:
    'Large language models have shown strong multilingual abilities, yet their translation quality for ' +
    'low-resource languages lags far behind high-resource pairs. We propose a fine-tuning recipe that combines ' +
    'parallel sentences mined from the web with synthetic back-translated data and a curriculum over language ' +
    'pairs. On the FLORES-200 benchmark our approach improves BLEU and chrF by a wide margin for 40 low-resource ' +
    'languages, and human evaluation shows more fluent and adequate translations. We release our corpus and ' +
    'instruction-tuned models to support research on multilingual natural language processing.',
};

export const primeNumbers = {
  title: 'On the Distribution of Primes in Short Intervals and Zeros of the Riemann Zeta Function',
  abstract:
    'Assuming the Riemann hypothesis, we prove that every interval of the form (x, x + c sqrt(x) log x) contains ' +
    'a prime number for all sufficiently large x, with an explicit constant c. The proof combines explicit ' +
    'formulae for the prime counting function with new zero-density estimates for the Riemann zeta function and ' +
    'bounds for exponential sums over primes. As an application we obtain improved bounds on gaps between ' +
    'consecutive primes and on the number of Goldbach exceptions in arithmetic progressions.',
};
