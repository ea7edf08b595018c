"""Records to a sparse feature matrix: TF-IDF of the words of the title and abstract (single words and
pairs) beside TF-IDF of the keywords (each MeSH term or keyword a feature of its own), rows scaled
to unit length. Fitted on every record of the corpus, labelled or not (the vocabulary and the
document frequencies use no label).

scikit-learn is imported here, so only by the commands that rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .records import Record

__all__ = ["FeatureConfig", "featurize"]


@dataclass(frozen=True)
class FeatureConfig:
    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = 2  # a term of one record only cannot carry what was learnt to another
    max_df: float = 0.95
    keyword_weight: float = 0.5  # the keyword block's weight beside the text block (0: none)


def _keyword_terms(record: Record) -> list[str]:
    return [k.lower() for k in record.keywords]


def featurize(records: Sequence[Record], config: FeatureConfig = FeatureConfig()):
    """A CSR matrix (float64, as liblinear takes it), one unit-length row per record."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    n = len(records)
    if n == 0:
        return sp.csr_matrix((0, 0), dtype=np.float64)
    texts = [f"{r.title}\n{r.abstract}" for r in records]
    blocks = []
    words = TfidfVectorizer(ngram_range=config.ngram_range, sublinear_tf=True, min_df=config.min_df,
                            max_df=config.max_df if n > 1 else 1.0, dtype=np.float64)
    try:
        blocks.append(words.fit_transform(texts))
    except ValueError:  # no word in any record (empty titles and abstracts)
        blocks.append(sp.csr_matrix((n, 0), dtype=np.float64))
    if config.keyword_weight and any(r.keywords for r in records):
        kw = TfidfVectorizer(analyzer=_keyword_terms, sublinear_tf=True, dtype=np.float64)
        blocks.append(kw.fit_transform(records) * config.keyword_weight)
    matrix = sp.hstack(blocks, format="csr", dtype=np.float64)
    return normalize(matrix, copy=False) if matrix.shape[1] else matrix
