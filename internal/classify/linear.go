package classify

import (
	"math"
	"math/bits"
)

// Multinomial logistic regression over the dense cue/global features and the
// hashed n-grams. Dense weights are regularised towards the lexicon priors,
// n-gram weights towards zero: with only a few hundred labelled messages the
// hand-written cues must stay in charge, and the n-grams only correct them
// where the data clearly disagrees.

type linearModel struct {
	bias   [8]float32
	dense  [][8]float32 // nDense() rows
	sparse [][8]float32 // 1<<sparseBits rows
}

type example struct {
	dense  denseBits
	sparse []uint32
	y      int
}

type trainParams struct {
	iters      int
	rate       float64
	denseL2    float64 // pull of dense weights towards their prior
	sparseL2   float64 // pull of n-gram weights towards zero
	biasL2     float64 // pull of the intent biases towards the log class frequencies
	priorScale float64 // multiplier on the lexicon priors
}

var defaultTrainParams = trainParams{iters: 300, rate: 0.05, denseL2: 0.02, sparseL2: 0.02, biasL2: 0.05,
	priorScale: 1}

// predict writes the intent probabilities to p.
func (m *linearModel) predict(dense *denseBits, sparse []uint32, p *[nIntents]float32) {
	s := m.bias
	for w := 0; w < 2; w++ {
		for x := dense[w]; x != 0; x &= x - 1 {
			i := w*64 + bits.TrailingZeros64(x)
			row := &m.dense[i]
			for k := 0; k < 8; k++ {
				s[k] += row[k]
			}
		}
	}
	for _, b := range sparse {
		row := &m.sparse[b]
		for k := 0; k < 8; k++ {
			s[k] += row[k]
		}
	}
	softmax(&s, p)
}

func softmax(s *[8]float32, p *[nIntents]float32) {
	mx := s[0]
	for k := 1; k < nIntents; k++ {
		mx = max(mx, s[k])
	}
	var sum float32
	for k := 0; k < nIntents; k++ {
		e := float32(math.Exp(float64(s[k] - mx)))
		p[k] = e
		sum += e
	}
	for k := 0; k < nIntents; k++ {
		p[k] /= sum
	}
}

func priorMatrix(scale float64) [][nIntents]float64 {
	pm := make([][nIntents]float64, nDense())
	for i, d := range cueDefs {
		for k := 0; k < nIntents; k++ {
			pm[i][k] = float64(d.prior[k]) * scale
		}
	}
	pm[nCues+gNoCue][iOther] = 1.5 * scale
	return pm
}

// trainLinear fits the model with full-batch Adam; deterministic for a given
// input order.
func trainLinear(ex []example, tp trainParams) *linearModel {
	nd := nDense()
	prior := priorMatrix(tp.priorScale)
	// parameters: bias, dense, and only the n-gram rows that occur
	used := map[uint32]int{}
	var rows []uint32
	for _, e := range ex {
		for _, b := range e.sparse {
			if _, ok := used[b]; !ok {
				used[b] = len(rows)
				rows = append(rows, b)
			}
		}
	}
	nParam := (1 + nd + len(rows)) * nIntents
	w := make([]float64, nParam)
	g := make([]float64, nParam)
	m1 := make([]float64, nParam)
	m2 := make([]float64, nParam)
	denseOff := nIntents
	sparseOff := (1 + nd) * nIntents
	for i := 0; i < nd; i++ {
		for k := 0; k < nIntents; k++ {
			w[denseOff+i*nIntents+k] = prior[i][k]
		}
	}
	// Without a pull towards the class frequencies the biases drift to make
	// up for the strong cue priors: rare intents with strong cues (spam) end
	// up far below, and the intents used as fallback (praise) far above.
	var logPrior [nIntents]float64
	var cnt [nIntents]float64
	for _, e := range ex {
		cnt[e.y]++
	}
	for k := 0; k < nIntents; k++ {
		logPrior[k] = math.Log((cnt[k] + 1) / (float64(len(ex)) + nIntents))
		w[k] = logPrior[k]
	}
	// sparse indices per example, remapped to parameter rows
	exRows := make([][]int, len(ex))
	for i, e := range ex {
		r := make([]int, len(e.sparse))
		for j, b := range e.sparse {
			r[j] = sparseOff + used[b]*nIntents
		}
		exRows[i] = r
	}
	exDense := make([][]int, len(ex))
	for i, e := range ex {
		for d := 0; d < nd; d++ {
			if e.dense.has(d) {
				exDense[i] = append(exDense[i], denseOff+d*nIntents)
			}
		}
	}
	n := float64(len(ex))
	const b1, b2, eps = 0.9, 0.999, 1e-8
	var s [nIntents]float64
	for it := 1; it <= tp.iters; it++ {
		clear(g)
		for i, e := range ex {
			copy(s[:], w[:nIntents])
			for _, o := range exDense[i] {
				for k := 0; k < nIntents; k++ {
					s[k] += w[o+k]
				}
			}
			for _, o := range exRows[i] {
				for k := 0; k < nIntents; k++ {
					s[k] += w[o+k]
				}
			}
			mx := s[0]
			for k := 1; k < nIntents; k++ {
				mx = math.Max(mx, s[k])
			}
			sum := 0.0
			for k := 0; k < nIntents; k++ {
				s[k] = math.Exp(s[k] - mx)
				sum += s[k]
			}
			for k := 0; k < nIntents; k++ {
				d := s[k] / sum
				if k == e.y {
					d--
				}
				d /= n
				g[k] += d
				for _, o := range exDense[i] {
					g[o+k] += d
				}
				for _, o := range exRows[i] {
					g[o+k] += d
				}
			}
		}
		for i := 0; i < nd; i++ {
			for k := 0; k < nIntents; k++ {
				o := denseOff + i*nIntents + k
				g[o] += tp.denseL2 * (w[o] - prior[i][k])
			}
		}
		for k := 0; k < nIntents; k++ {
			g[k] += tp.biasL2 * (w[k] - logPrior[k])
		}
		for o := sparseOff; o < nParam; o++ {
			g[o] += tp.sparseL2 * w[o]
		}
		c1 := 1 - math.Pow(b1, float64(it))
		c2 := 1 - math.Pow(b2, float64(it))
		for o := range w {
			m1[o] = b1*m1[o] + (1-b1)*g[o]
			m2[o] = b2*m2[o] + (1-b2)*g[o]*g[o]
			w[o] -= tp.rate * (m1[o] / c1) / (math.Sqrt(m2[o]/c2) + eps)
		}
	}
	m := &linearModel{dense: make([][8]float32, nd), sparse: make([][8]float32, 1<<sparseBits)}
	// Rows are padded to 8 lanes so that predict adds whole rows; the 8th lane
	// is never read by softmax.
	for k := 0; k < nIntents; k++ {
		m.bias[k] = float32(w[k])
	}
	for i := 0; i < nd; i++ {
		for k := 0; k < nIntents; k++ {
			m.dense[i][k] = float32(w[denseOff+i*nIntents+k])
		}
	}
	for j, r := range rows {
		for k := 0; k < nIntents; k++ {
			m.sparse[r][k] = float32(w[sparseOff+j*nIntents+k])
		}
	}
	return m
}
