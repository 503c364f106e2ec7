package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/vernetzen/vernetzen/internal/access"
	"github.com/vernetzen/vernetzen/internal/connector"
)

// Preview is how a post looks on one platform: the text that platform
// gets, counted as it counts, its media, and the problems of its
// channels. Channels with a variant of their own (text or media) get a
// preview of their own.
type Preview struct {
	Platform string `json:"platform"`
	Name     string `json:"name"`
	// Variant is the variant the preview shows: "" for the post's own
	// content, a platform key, or "channel:42" (the most specific of its
	// text's and its media's).
	Variant    string    `json:"variant,omitempty"`
	OwnMedia   bool      `json:"own_media,omitempty"` // the media are the variant's, not the post's
	Channels   []string  `json:"channels"`
	ChannelIDs []int64   `json:"channel_ids"`
	Text       string    `json:"text"`
	Count      int       `json:"count"`
	Max        int       `json:"max"`
	Counter    string    `json:"counter"`
	Media      []Media   `json:"media"`
	Problems   []Problem `json:"problems"`
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

// variantKeys says which variant keys a channel's text and media come
// from ("" = the post's own).
func (p *Post) variantKeys(channelID int64, platform string) (text, media string) {
	ck := fmt.Sprintf("channel:%d", channelID)
	if _, ok := p.Variants[ck]; ok {
		text = ck
	} else if _, ok := p.Variants[platform]; ok {
		text = platform
	}
	if _, ok := p.VariantMedia[ck]; ok {
		media = ck
	} else if _, ok := p.VariantMedia[platform]; ok {
		media = platform
	}
	return text, media
}

// Preview validates a would-be post like Validate and also returns one
// preview per target platform (and per channel with its own variant), in
// the order the targets came.
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
	at := map[string]int{}       // platform and channel variant → preview
	byChannel := map[int64]int{} // channel → preview
	for _, t := range targets {
		tk, mk := post.variantKeys(t.ch.ID, t.ch.Platform)
		group := t.ch.Platform
		if strings.HasPrefix(tk, "channel:") || strings.HasPrefix(mk, "channel:") {
			group = fmt.Sprintf("channel:%d", t.ch.ID)
		}
		i, ok := at[group]
		if !ok {
			caps := t.conn.Capabilities()
			pv := Preview{Platform: t.ch.Platform, Name: uiName(t.ch.Platform), Text: post.TextFor(t.ch.ID, t.ch.Platform),
				Max: caps.MaxTextLength, Counter: caps.TextCounter, OwnMedia: mk != "", Variant: tk}
			if strings.HasPrefix(mk, "channel:") || tk == "" {
				pv.Variant = mk
			}
			count := counters[caps.TextCounter]
			if count == nil {
				count = connector.CountChars
			}
			pv.Count = count(pv.Text)
			for _, id := range post.MediaFor(t.ch.ID, t.ch.Platform) {
				if m, ok := media[id]; ok {
					pv.Media = append(pv.Media, m)
				}
			}
			i = len(out)
			at[group] = i
			out = append(out, pv)
		}
		out[i].Channels = append(out[i].Channels, t.ch.Name)
		out[i].ChannelIDs = append(out[i].ChannelIDs, t.ch.ID)
		byChannel[t.ch.ID] = i
	}
	for _, pr := range problems {
		if i, ok := byChannel[pr.Channel]; ok {
			out[i].Problems = append(out[i].Problems, pr)
		}
	}
	return out, problems, nil
}
