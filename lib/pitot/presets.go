package pitot

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// presets maps each preset of the paper's grid (specs/pitot.md section 3,
// the original pitot/_presets.py) to its change from the default Config.
var presets = map[string]func(*Config){
	"pitot": func(*Config) {},
}

func init() {
	for _, r := range []int{4, 8, 16, 64, 128} {
		presets["embedding/"+strconv.Itoa(r)] = func(c *Config) { c.MFDim = r }
	}
	for _, q := range []int{0, 1, 2, 8, 16} {
		presets["learned/"+strconv.Itoa(q)] = func(c *Config) {
			c.Workload.Learned, c.Platform.Learned = learned(q), learned(q)
		}
	}
	for _, s := range []int{1, 4, 8, 16} {
		presets["interference/"+strconv.Itoa(s)] = func(c *Config) { c.IFDim = s }
	}
	for _, b := range []string{"0.1", "0.2", "1.0", "2.0"} {
		beta, _ := strconv.ParseFloat(b, 64)
		presets["weight/"+b] = func(c *Config) { c.IFWeight = beta / 3 }
	}
	presets["features/noworkload"] = func(c *Config) { c.Workload.Free = true }
	presets["features/noplatform"] = func(c *Config) { c.Platform.Free = true }
	presets["features/blackbox"] = func(c *Config) { c.Workload.Free, c.Platform.Free = true, true }
	presets["components/nobaseline"] = func(c *Config) { c.NoBaseline = true }
	presets["components/naiveloss"] = func(c *Config) { c.Loss = LossPercent; c.NoBaseline = true }
	// The original's _NOINTERFERENCE block also sets 4 learned features.
	presets["components/ignore"] = func(c *Config) {
		c.Kind = KindIgnore
		c.Workload.Learned, c.Platform.Learned = 4, 4
	}
	presets["components/discard"] = func(c *Config) {
		c.Kind = KindIgnore
		c.Workload.Learned, c.Platform.Learned = 4, 4
		c.IFWeight = -1
	}
	presets["components/notrectified"] = func(c *Config) { c.IFSlope = 1 }
	presets["conformal/naive"] = func(c *Config) {
		c.Loss = LossPinball
		c.Quantiles = []float64{90, 91, 92, 93, 94, 95, 96, 97, 98, 99}
	}
	presets["conformal/optimal"] = func(c *Config) {
		c.Loss = LossPinball
		c.Quantiles = []float64{50, 60, 70, 80, 90, 95, 98, 99}
	}
	presets["baseline/factorization"] = func(c *Config) {
		c.Kind = KindIgnore
		c.Workload.Free, c.Platform.Free = true, true
		c.IFWeight = -1
	}
	presets["baseline/monolith"] = func(c *Config) { c.Kind = KindMonolith; c.Hidden = []int{256, 256} }
	presets["baseline/attention"] = func(c *Config) {
		c.Kind = KindAttention
		c.Hidden = []int{256, 256}
		c.OutputLayers = []int{32}
		c.AttentionDim, c.ValueDim = 8, 8
	}
}

func learned(q int) int {
	if q == 0 {
		return -1
	}
	return q
}

// Aliases are preset names of the paper's figures that denote the default
// model (the original `make alias`). As in the original, "learned/4" names
// the default although the default has q = 1 (specs/pitot.md section 3).
var Aliases = map[string]string{
	"embedding/32":          "pitot",
	"learned/4":             "pitot",
	"interference/2":        "pitot",
	"weight/0.5":            "pitot",
	"features/all":          "pitot",
	"components/full":       "pitot",
	"conformal/nonquantile": "pitot",
	"baseline/pitot":        "pitot",
}

// Presets lists every preset name, sorted.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Preset returns the configuration of a named preset (or alias).
func Preset(name string) (Config, error) {
	if a, ok := Aliases[name]; ok {
		name = a
	}
	f, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("pitot: unknown preset %q (have %s)", name, strings.Join(Presets(), ", "))
	}
	var c Config
	f(&c)
	return c, nil
}

// Match returns the presets matching any of the shell patterns (path.Match
// syntax, e.g. "embedding/*", "pitot"), sorted; "*" alone means every
// preset (path.Match's * stops at a slash). It fails on a pattern that
// matches nothing.
func Match(patterns ...string) ([]string, error) {
	var out []string
	for _, pat := range patterns {
		n := 0
		for _, name := range Presets() {
			ok, err := path.Match(pat, name)
			if pat == "*" {
				ok = true
			}
			if err != nil {
				return nil, fmt.Errorf("pitot: bad preset pattern %q: %v", pat, err)
			}
			if ok {
				n++
				if !slices.Contains(out, name) {
					out = append(out, name)
				}
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("pitot: pattern %q matches no preset (have %s)", pat, strings.Join(Presets(), ", "))
		}
	}
	slices.Sort(out)
	return out, nil
}
