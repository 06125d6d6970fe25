"""transformers' two beam searches, independent of the model, as the references for the library's PretrainedGenerator.

- vectorized: generation/utils.py's _beam_search from transformers 4.49 on (PR #35802, also 5.x) with its helpers
  _get_top_k_continuations, _get_running_beams_for_next_iteration, _update_finished_beams, _check_early_stop_heuristic
  and _beam_search_has_unfinished_sequences.
- scorer: _beam_search with BeamSearchScorer and BeamHypotheses (generation/beam_search.py), as transformers 4.36-4.48
  run it: process, is_done, finalize.

Both take the model as two functions: step(feed) gives the last position's logits [batch * beams, vocabulary] for the
new tokens `feed` (the model keeps its own cache), and reorder(rows) makes the cache follow the surviving rows. `start`
is [batch, prompt length] (the decoder start and any prompt). Each returns, per image, the generated tokens after the
prompt without the end token, whether it ended with an end token, its score (length-normalised) and its summed log
probability.
"""

import torch
import torch.nn.functional as F


def _gather(t, idx):
    while len(idx.shape) < len(t.shape):
        idx = idx.unsqueeze(-1)
    return torch.take_along_dim(t, idx, dim=1)


def _result(row, prompt_len, eos, score, total):
    tokens = row[prompt_len:]
    for i, t in enumerate(tokens):
        if t in eos:
            return {"tokens": tokens[:i], "finished": True, "score": score, "log_probability": total}
    return {"tokens": tokens, "finished": False, "score": score, "log_probability": total}


def vectorized(step, reorder, start, eos, pad, max_length, num_beams, length_penalty, early_stopping, min_length=0):
    batch, cur_len = start.shape
    prompt_len = cur_len
    eos_ids = torch.tensor(eos, dtype=torch.long)
    flat = start.repeat_interleave(num_beams, 0)
    running_sequences = torch.full((batch, num_beams, max_length), pad, dtype=torch.long)
    running_sequences[:, :, :cur_len] = flat.view(batch, num_beams, -1)
    sequences = running_sequences.clone()
    running_beam_scores = torch.zeros(batch, num_beams)
    running_beam_scores[:, 1:] = -1e9
    beam_scores = torch.full((batch, num_beams), -1e9)
    # the raw sums of the finished beams, carried beside transformers' normalised scores
    beam_sums = torch.full((batch, num_beams), -1e9)
    is_sent_finished = torch.zeros(batch, num_beams, dtype=torch.bool)
    unsatisfied = torch.ones(batch, 1, dtype=torch.bool)
    beams_to_keep = max(2, 1 + len(eos)) * num_beams
    top_mask = torch.cat([torch.ones(num_beams, dtype=torch.bool), torch.zeros(beams_to_keep - num_beams, dtype=torch.bool)])
    feed = flat
    while cur_len < max_length:
        logits = step(feed).float()
        log_probs = F.log_softmax(logits, dim=-1)
        vocab = log_probs.size(-1)
        if cur_len < min_length:
            log_probs[:, eos_ids] = -float("inf")
        log_probs = (log_probs.view(batch, num_beams, vocab) + running_beam_scores[:, :, None]).reshape(batch, num_beams * vocab)
        # _get_top_k_continuations
        topk_log_probs, topk_indices = torch.topk(log_probs, k=beams_to_keep, dim=-1)
        topk_beam = torch.div(topk_indices, vocab, rounding_mode="floor")
        topk_running_sequences = _gather(running_sequences, topk_beam)
        topk_ids = topk_indices % vocab
        topk_running_sequences[:, :, cur_len] = topk_ids
        # the stopping criteria: an end token, or max_length reached by this token
        hits = torch.isin(topk_ids, eos_ids)
        if cur_len + 1 >= max_length:
            hits = torch.ones_like(hits)
        # _get_running_beams_for_next_iteration
        running_log = topk_log_probs + hits.float() * -1.0e9
        next_idx = torch.topk(running_log, k=num_beams)[1]
        running_sequences = _gather(topk_running_sequences, next_idx)
        running_beam_scores = _gather(running_log, next_idx)
        beam_origin = _gather(topk_beam, next_idx)
        # _update_finished_beams
        just_finished = hits & top_mask[None, :]
        sums = topk_log_probs.clone()
        scores = topk_log_probs / ((cur_len + 1 - prompt_len) ** length_penalty)
        full = torch.all(is_sent_finished, dim=-1, keepdim=True) & (early_stopping is True)
        scores = scores + full.float() * -1.0e9
        scores = scores + (~unsatisfied).float() * -1.0e9
        scores = scores + (~just_finished) * -1.0e9
        merged_scores = torch.cat([beam_scores, scores], 1)
        keep = torch.topk(merged_scores, k=num_beams)[1]
        sequences = _gather(torch.cat([sequences, topk_running_sequences], 1), keep)
        beam_scores = _gather(merged_scores, keep)
        beam_sums = _gather(torch.cat([beam_sums, sums], 1), keep)
        is_sent_finished = _gather(torch.cat([is_sent_finished, just_finished], 1), keep)
        reorder((beam_origin + torch.arange(batch)[:, None] * num_beams).reshape(-1))
        feed = running_sequences[:, :, cur_len].reshape(-1, 1)
        cur_len += 1
        # _check_early_stop_heuristic ("never" is not among the settings the library accepts)
        best_running = running_beam_scores[:, :1] / ((cur_len - prompt_len) ** length_penalty)
        worst_finished = torch.where(is_sent_finished, torch.min(beam_scores, dim=1, keepdim=True)[0], torch.tensor(-1.0e9))
        unsatisfied = unsatisfied & torch.any(best_running > worst_finished, dim=-1, keepdim=True)
        # _beam_search_has_unfinished_sequences
        improvement = torch.any(unsatisfied)
        open_beam = ~(torch.all(is_sent_finished) & (early_stopping is True))
        valid = ~torch.all(hits)
        if not (improvement & open_beam & valid):
            break
    return [_result(sequences[b, 0].tolist(), prompt_len, eos, beam_scores[b, 0].item(), beam_sums[b, 0].item()) for b in range(batch)]


class BeamHypotheses:
    def __init__(self, num_beams, length_penalty, early_stopping):
        self.num_beams, self.length_penalty, self.early_stopping = num_beams, length_penalty, early_stopping
        self.beams, self.worst_score = [], 1e9

    def add(self, hyp, sum_logprobs, generated_len, finished):
        score = sum_logprobs / (generated_len ** self.length_penalty)
        if len(self.beams) < self.num_beams or score > self.worst_score:
            self.beams.append((score, hyp, sum_logprobs, finished))
            if len(self.beams) > self.num_beams:
                ranked = sorted([(s, i) for i, (s, _, _, _) in enumerate(self.beams)])
                del self.beams[ranked[0][1]]
                self.worst_score = ranked[1][0]
            else:
                self.worst_score = min(score, self.worst_score)

    def is_done(self, best_sum_logprobs, cur_len, prompt_len):
        if len(self.beams) < self.num_beams:
            return False
        if self.early_stopping is True:
            return True
        return self.worst_score >= best_sum_logprobs / (cur_len - prompt_len) ** self.length_penalty


def scorer(step, reorder, start, eos, pad, max_length, num_beams, length_penalty, early_stopping, min_length=0):
    batch, prompt_len = start.shape
    input_ids = start.repeat_interleave(num_beams, 0)
    hyps = [BeamHypotheses(num_beams, length_penalty, early_stopping) for _ in range(batch)]
    done = [False] * batch
    beam_scores = torch.zeros(batch, num_beams)
    beam_scores[:, 1:] = -1e9
    beam_scores = beam_scores.view(-1)
    candidates = max(2, 1 + len(eos)) * num_beams
    feed = input_ids
    while True:
        scores = F.log_softmax(step(feed).float(), dim=-1)
        if input_ids.shape[-1] < min_length:
            scores[:, torch.tensor(eos, dtype=torch.long)] = -float("inf")
        vocab = scores.shape[-1]
        scores = (scores + beam_scores[:, None]).view(batch, num_beams * vocab)
        next_scores, next_tokens = torch.topk(scores, candidates, dim=1, largest=True, sorted=True)
        next_indices = torch.div(next_tokens, vocab, rounding_mode="floor")
        next_tokens = next_tokens % vocab
        # BeamSearchScorer.process
        cur_len = input_ids.shape[-1] + 1
        new_scores = torch.zeros(batch, num_beams)
        new_tokens = torch.zeros(batch, num_beams, dtype=torch.long)
        new_indices = torch.zeros(batch, num_beams, dtype=torch.long)
        for b in range(batch):
            if done[b]:
                new_tokens[b, :] = pad
                continue
            beam_idx = 0
            for rank, (token, score, index) in enumerate(zip(next_tokens[b], next_scores[b], next_indices[b])):
                row = b * num_beams + index
                if token.item() in eos:
                    if rank >= num_beams:
                        continue
                    hyps[b].add(input_ids[row].tolist(), score.item(), cur_len - prompt_len, True)
                else:
                    new_scores[b, beam_idx], new_tokens[b, beam_idx], new_indices[b, beam_idx] = score, token, row
                    beam_idx += 1
                if beam_idx == num_beams:
                    break
            done[b] = done[b] or hyps[b].is_done(next_scores[b].max().item(), cur_len, prompt_len)
        beam_scores = new_scores.view(-1)
        rows = new_indices.view(-1)
        input_ids = torch.cat([input_ids[rows, :], new_tokens.view(-1, 1)], dim=-1)
        reorder(rows)
        feed = new_tokens.view(-1, 1)
        if all(done) or input_ids.shape[-1] >= max_length:
            break
    # BeamSearchScorer.finalize
    results = []
    for b in range(batch):
        if not done[b]:
            for j in range(num_beams):
                row = b * num_beams + j
                hyps[b].add(input_ids[row].tolist(), beam_scores[row].item(), input_ids.shape[-1] - prompt_len, False)
        score, hyp, total, finished = sorted(hyps[b].beams, key=lambda x: x[0])[-1]
        results.append({"tokens": hyp[prompt_len:], "finished": finished, "score": score, "log_probability": total})
    return results


SEARCHES = {"vectorized": vectorized, "scorer": scorer}
