"""Forced alignment of a script's words to speech through the phonetic encoder's posteriors, and a score per word
that says whether the audio really says it.

A left-to-right HMM over the script's phones with an optional silence between words (and at both ends) is
decoded by Viterbi on the encoder's 50 Hz log posteriors divided by the utterance's own phone prior (a hybrid
model's scaled likelihoods). Each word then gets a goodness-of-pronunciation score: the mean, over its frames, of
the aligned phone's log posterior minus the best phone's — 0 where the audio is sure of exactly that phone, −3 or
lower where it hears something else. A word scoring under ``MATCH_SCORE`` is not said there (another take, an
ad-lib, the wrong line): its frames fall back to the audio path.

Long files decode in a band around the diagonal (``MAX_CELLS``), so memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.speech.lexicon import Word
from core.speech.phoneset import INDEX, SIL

RATE = 50.0  # frames per second (the encoder's)
#: A word whose score (mean log-posterior margin of its aligned phones) is below this is taken as not said. Chosen by
#: ``scripts/script_threshold.py`` on tuning material only (GRID s1's held-out clips and the tuning voices festival
#: kal, flite kal and rms; each line's own script against another line's): the best balanced accuracy, 95 % of true
#: words kept and 93 % of wrong ones refused.
MATCH_SCORE = -0.7
#: The same for a script in another language (phonemised by espeak-ng onto English phones): the English-trained
#: encoder hears those phones less surely. Chosen by ``scripts/script_threshold.py --languages`` on 18 espeak-ng
#: sentences in French, German, Spanish, Italian and Portuguese, each against another's script (83 % of true words
#: kept, 77 % of wrong ones refused).
MATCH_SCORE_OTHER = -1.6
PRIOR_WEIGHT = 0.5  # how much of the utterance's phone prior is divided out
STAY, ADVANCE = np.log(0.75), np.log(0.25)
MAX_CELLS = 20_000_000  # frames × states decoded in full; beyond, a band around the diagonal


@dataclass
class WordSpan:
    text: str
    start: int  # first frame (50 Hz)
    end: int  # one past the last frame
    score: float
    matched: bool
    source: str  # where its phones came from (``core.speech.lexicon.Word.source``)

    @property
    def seconds(self) -> tuple[float, float]:
        return self.start / RATE, self.end / RATE


@dataclass
class Alignment:
    words: list[WordSpan]
    phones: np.ndarray  # (L,) aligned phone per frame (SIL between and around words)
    matched: np.ndarray  # (L,) bool: the frame belongs to a matched word, or to a pause between two matched ones

    @property
    def share_matched(self) -> float:
        return float(np.mean([w.matched for w in self.words])) if self.words else 0.0

    def unmatched_spans(self) -> list[tuple[float, float, str]]:
        """(start s, end s, the script's words there) of each run of words not found in the audio."""
        out: list[tuple[float, float, str]] = []
        run: list[WordSpan] = []
        for w in [*self.words, None]:
            if w is not None and not w.matched:
                run.append(w)
                continue
            if run:
                out.append((run[0].start / RATE, run[-1].end / RATE, " ".join(x.text for x in run)))
                run = []
        return out


def _states(words: list[Word]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(phone of each state, word of each state (-1: silence), whether the state is an optional silence)."""
    phone, word, opt = [SIL], [-1], [True]
    for i, w in enumerate(words):
        for p in w.phones:
            phone.append(INDEX[p])
            word.append(i)
            opt.append(False)
        phone.append(SIL)
        word.append(-1)
        opt.append(True)
    return np.array(phone, np.int64), np.array(word, np.int64), np.array(opt, bool)


def _viterbi(emit: np.ndarray, optional: np.ndarray, band: int) -> np.ndarray | None:
    """Best state path (L,) through a left-to-right chain (stay, advance, or skip an optional state), or None when
    the chain cannot fit in the frames. With ``band`` > 0 only states within ``band`` of the diagonal are decoded
    at each frame, and the back-pointers kept are (L, 2·band + 1): memory stays bounded on long files."""
    n_frames, n_states = emit.shape
    first = 1 if optional[0] else 0
    last = n_states - 2 if optional[-1] else n_states - 1
    if last - first + 1 - int(optional[first : last + 1].sum()) > n_frames:
        return None
    neg = np.float32(-1e30)
    width = n_states if not band else min(n_states, 2 * band + 1)
    if band:
        centre = np.round(np.arange(n_frames) * ((n_states - 1) / max(1, n_frames - 1))).astype(np.int64)
        lo = np.clip(centre - band, 0, n_states - width)
    else:
        lo = np.zeros(n_frames, np.int64)
    # padded by two states in front, so that "from s-1" and "from s-2" are plain slices
    delta = np.full(n_states + 2, neg, np.float32)
    delta[2] = emit[0, 0]
    if optional[0]:
        delta[3] = emit[0, 1]
    if lo[0] > 0:
        return None
    # scores are kept relative to staying (every path pays STAY per frame alike): advancing costs ADVANCE − STAY,
    # and skipping state s-1 is allowed (at that cost) when it is an optional silence
    step = np.float32(ADVANCE - STAY)
    skip_pen = np.full(n_states, neg, np.float32)
    skip_pen[2:] = np.where(optional[1:-1], step, neg)
    back = np.zeros((n_frames, width), np.int8)
    adv, skip = np.empty(width, np.float32), np.empty(width, np.float32)
    took_adv, took_skip = np.empty(width, bool), np.empty(width, bool)
    new = np.full(n_states + 2, neg, np.float32)
    emit = emit.astype(np.float32, copy=False)
    for t in range(1, n_frames):
        a = int(lo[t])
        b = a + width
        stay = delta[a + 2 : b + 2]
        np.add(delta[a + 1 : b + 1], step, out=adv)
        np.add(delta[a:b], skip_pen[a:b], out=skip)
        np.greater(adv, stay, out=took_adv)
        np.maximum(stay, adv, out=adv)
        np.greater(skip, adv, out=took_skip)
        np.maximum(adv, skip, out=adv)
        row = back[t]
        np.copyto(row, took_adv, casting="unsafe")
        np.copyto(row, 2, where=took_skip)
        if band:
            new.fill(neg)
        np.add(adv, emit[t, a:b], out=new[a + 2 : b + 2])
        delta, new = new, delta
    end = last if delta[last + 2] >= delta[n_states + 1] else n_states - 1
    if delta[end + 2] <= neg / 2:
        return None
    path = np.empty(n_frames, np.int64)
    s_ = end
    for t in range(n_frames - 1, -1, -1):
        path[t] = s_
        if t:
            s_ -= int(back[t, s_ - lo[t]])
    return path  # a finite score can only have started in state 0 or 1


def align_words(log_post: np.ndarray, words: list[Word], match_score: float = MATCH_SCORE) -> Alignment:
    """Align ``words`` to (L, 40) log phone posteriors at 50 Hz; every word scored and judged (see module doc).

    A script whose phones cannot fit in the audio (far too long for it) comes back with no word matched.
    """
    n = len(log_post)
    words = [w for w in words if w.phones]
    phone, word, optional = _states(words)
    if not words or n == 0:
        return Alignment([], np.full(n, SIL, np.int64), np.zeros(n, bool))
    prior = np.log(np.exp(log_post).mean(0) + 1e-4)
    scaled = log_post - PRIOR_WEIGHT * prior[None, :]
    emit = scaled[:, phone]  # (L, S)
    band = 0 if n * len(phone) <= MAX_CELLS else max(100, MAX_CELLS // (2 * n))
    path = _viterbi(emit, optional, band)
    if path is None:
        spans = [WordSpan(w.text, 0, 0, -np.inf, False, w.source) for w in words]
        return Alignment(spans, np.full(n, SIL, np.int64), np.zeros(n, bool))
    frame_phone = phone[path]
    frame_word = word[path]
    margin = log_post[np.arange(n), frame_phone] - log_post.max(1)
    spans = []
    for i, w in enumerate(words):
        f = np.flatnonzero(frame_word == i)
        if len(f) == 0:
            spans.append(WordSpan(w.text, 0, 0, -np.inf, False, w.source))
            continue
        score = float(margin[f].mean())
        spans.append(WordSpan(w.text, int(f[0]), int(f[-1]) + 1, score, score >= match_score, w.source))
    matched = np.zeros(n, bool)
    for i, s in enumerate(spans):
        if s.matched:
            matched[s.start : s.end] = True
            nxt = spans[i + 1] if i + 1 < len(spans) else None
            if nxt is not None and nxt.matched:
                matched[s.end : nxt.start] = True  # the pause between two words that are there
    return Alignment(spans, frame_phone, matched)
