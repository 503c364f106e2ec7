package publish

import (
	"context"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
)

// Preview is how a post looks on one platform: the text that platform
// gets, counted as it counts, its media, and the problems of its
// channels.
type Preview struct {
	Platform string    `json:"platform"`
	Name     string    `json:"name"`
	Channels []string  `json:"channels"`
	Text     string    `json:"text"`
	Count    int       `json:"count"`
	Max      int       `json:"max"`
	Counter  string    `json:"counter"`
	Media    []Media   `json:"media"`
	Problems []Problem `json:"problems"`
}

// Over says the text is over the platform's limit.
func (p Preview) Over() bool { return p.Max > 0 && p.Count > p.Max }

// counters maps Capabilities.TextCounter to the function.
var counters = map[string]func(string) int{
	"chars":      connector.CountChars,
	"graphemes":  connector.CountGraphemes,
	"mastodon":   connector.CountMastodon,
	"x-weighted": connector.CountX,
}

// Preview validates a would-be post like Validate and also returns one
// preview per target platform, in the order the targets came.
func (s *Service) Preview(ctx context.Context, p *access.Principal, in PostInput) ([]Preview, []Problem, error) {
	targets, err := s.resolveTargets(ctx, p, in)
	if err != nil {
		return nil, nil, err
	}
	vm, vmedia, err := variantMap(in.Variants)
	if err != nil {
		return nil, nil, err
	}
	post := &Post{Text: in.Text, Variants: vm, Media: in.Media, VariantMedia: vmedia}
	media, err := s.postMedia(ctx, p, post)
	if err != nil {
		return nil, nil, err
	}
	problems := s.check(post, targets, media)
	var out []Preview
	at := map[string]int{}
	for _, t := range targets {
		i, ok := at[t.ch.Platform]
		if !ok {
			caps := t.conn.Capabilities()
			pv := Preview{Platform: t.ch.Platform, Name: uiName(t.ch.Platform), Text: post.TextFor(0, t.ch.Platform),
				Max: caps.MaxTextLength, Counter: caps.TextCounter}
			count := counters[caps.TextCounter]
			if count == nil {
				count = connector.CountChars
			}
			pv.Count = count(pv.Text)
			for _, id := range post.MediaFor(0, t.ch.Platform) {
				if m, ok := media[id]; ok {
					pv.Media = append(pv.Media, m)
				}
			}
			i = len(out)
			at[t.ch.Platform] = i
			out = append(out, pv)
		}
		out[i].Channels = append(out[i].Channels, t.ch.Name)
	}
	for _, pr := range problems {
		if i, ok := at[pr.Platform]; ok {
			out[i].Problems = append(out[i].Problems, pr)
		}
	}
	return out, problems, nil
}
