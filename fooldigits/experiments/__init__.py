"""The experiments of the story, one module per chapter: each yields pieces, returns a result.

An experiment is a generator function (see `pieces.py`): it computes with the concept
modules, yields `Say`/`Images`/`Table`/`Bars`/`Reading` pieces and progress events, and
returns a plain dataclass that `--json` prints. The command line (`cli/`) calls one
experiment per command and hands its stream to `present.py`; the tutor (`tutor.py`)
strings several together with its sentences. Neither holds a loop of its own.

| module      | experiments                                            | chapter |
|-------------|--------------------------------------------------------|---------|
| `basics`    | `show`, `train`, `evaluate`, `right_and_wrong`         | 1-2     |
| `eigen`     | `pca`, `reconstruct`                                   | 3       |
| `dreaming`  | `dream`, `dreams`, `ceiling`                           | 4       |
| `fooling`   | `fool`, `evolve_runs`, and what a `FoolReport` shows   | 5       |
| `transfer`  | `networks`, `transfer`                                 | 5       |
| `drawn`     | `classify`, `framing`, `border`, `scramble`            | 6       |
| `natural`   | `stats`, `compare`                                     | 7       |

What it leaves out: drawing and printing (`present.py`), option parsing (`cli/`).
"""
