package sim

import (
	"context"
	"hash/fnv"
	"math"
	"net/http"

	"github.com/vernetzen/vernetzen/internal/connector"
)

// MinDemographicFollowers is the audience below which the simulator, like
// Instagram, reports no breakdown.
const MinDemographicFollowers = 100

// audienceMix is a platform's typical audience in percent per age group
// (connector.AgeGroups order) and gender (connector.Genders order). The
// figures are invented but plausible for a car maker's channels: the
// young on TikTok and Instagram, the older on Facebook, YouTube and X
// leaning male. They exist so that the demo shows where a young audience
// is reached; they are not data about any platform.
type audienceMix struct {
	age    [7]float64
	gender [3]float64
}

var mixes = map[string]audienceMix{
	"tiktok":    {[7]float64{18, 38, 24, 11, 5, 3, 1}, [3]float64{55, 43, 2}},
	"instagram": {[7]float64{8, 31, 32, 16, 8, 3, 2}, [3]float64{52, 46, 2}},
	"youtube":   {[7]float64{6, 20, 28, 20, 13, 8, 5}, [3]float64{30, 69, 1}},
	"x":         {[7]float64{3, 22, 33, 21, 11, 6, 4}, [3]float64{33, 65, 2}},
	"linkedin":  {[7]float64{0, 14, 38, 25, 14, 7, 2}, [3]float64{42, 57, 1}},
	"facebook":  {[7]float64{2, 9, 22, 22, 19, 15, 11}, [3]float64{45, 54, 1}},
	// Platform "simulator" and any other: a broad mix.
	"": {[7]float64{5, 21, 29, 20, 13, 8, 4}, [3]float64{40, 58, 2}},
}

// Imitable lists the platforms whose audience the simulator can imitate.
func Imitable() []string {
	return []string{"facebook", "instagram", "linkedin", "tiktok", "x", "youtube"}
}

// AudienceOf is the simulated audience breakdown of an account with
// followers followers that imitates platform ("" for the simulator's own
// mix): follower counts per age group and gender. The mix is the
// platform's, varied per handle by up to about ±25% per group so that
// channels differ, and the same for the same handle every time. Below
// MinDemographicFollowers it is empty, as Instagram's is.
func AudienceOf(platform, handle string, followers int64) connector.Demographics {
	d := connector.Demographics{Basis: "followers"}
	if followers < MinDemographicFollowers {
		return d
	}
	mix, ok := mixes[platform]
	if !ok {
		mix = mixes[""]
	}
	h := fnv.New64a()
	h.Write([]byte(platform + "/" + normHandle(handle)))
	seed := h.Sum64()
	jitter := func(i int) float64 {
		// 0.75..1.25 from 8 bits of the handle's hash per group.
		b := (seed >> (uint(i%8) * 8)) & 0xff
		return 0.75 + 0.5*float64(b)/255
	}
	d.Age = split(followers, connector.AgeGroups, mix.age[:], jitter, 0)
	d.Gender = split(followers, connector.Genders, mix.gender[:], jitter, 7)
	return d
}

// split divides n over keys in proportion to weights (jittered), in whole
// followers that add up to n.
func split(n int64, keys []string, weights []float64, jitter func(int) float64, offset int) map[string]float64 {
	w := make([]float64, len(weights))
	var total float64
	for i, v := range weights {
		w[i] = v * jitter(i+offset)
		total += w[i]
	}
	out := make(map[string]float64, len(keys))
	var given int64
	largest := 0
	for i, k := range keys {
		c := int64(math.Floor(float64(n) * w[i] / total))
		out[k] = float64(c)
		given += c
		if w[i] > w[largest] {
			largest = i
		}
	}
	out[keys[largest]] += float64(n - given)
	return out
}

// DemographicsAnswer is GET /api/me/demographics's answer: follower
// counts per age group and gender, both empty below
// MinDemographicFollowers.
type DemographicsAnswer struct {
	Followers int64              `json:"followers"`
	Imitates  string             `json:"imitates,omitempty"`
	Age       map[string]float64 `json:"age"`
	Gender    map[string]float64 `json:"gender"`
}

func (s *Server) handleDemographics(w http.ResponseWriter, r *http.Request, a *account) {
	d := AudienceOf(a.Imitates, a.Handle, a.Followers)
	ans := DemographicsAnswer{Followers: a.Followers, Imitates: a.Imitates, Age: d.Age, Gender: d.Gender}
	if ans.Age == nil {
		ans.Age, ans.Gender = map[string]float64{}, map[string]float64{}
	}
	writeJSON(w, http.StatusOK, ans)
}

// FetchDemographics implements connector.DemographicsFetcher.
func (c *Connector) FetchDemographics(ctx context.Context, acct *connector.Account) (connector.Demographics, error) {
	b, err := base(acct)
	if err != nil {
		return connector.Demographics{}, err
	}
	var ans DemographicsAnswer
	if _, err := c.client.JSON(ctx, acct, &connector.Request{Op: "demographics", Method: http.MethodGet, URL: b + "/api/me/demographics"}, &ans); err != nil {
		return connector.Demographics{}, err
	}
	d := connector.Demographics{At: c.now(), Basis: "followers"}
	if len(ans.Age) > 0 {
		d.Age = ans.Age
	}
	if len(ans.Gender) > 0 {
		d.Gender = ans.Gender
	}
	return d, nil
}
