//go:build ignore

// Apparate_convert converts one of the Apparate artifact's pickles
// (specs/apparate.md 3) to this project's formats (specs 6.7):
//
//	go run scripts/apparate_convert.go -kind schedule -in batch_decisions/resnet50_1_fixed_30.pickle -out resnet50_1_fixed_30.json
//	go run scripts/apparate_convert.go -kind table -in simulation_pickles/imdb_bert-base.pickle -out imdb_bert-base.npz
//	go run scripts/apparate_convert.go -kind latency -in optimal_latency/bert-base_imdb_optimal.pickle -out bert-base_imdb_optimal.json
//	go run scripts/apparate_convert.go -kind profile -in profile_pickles_bs -model resnet50 -cv -out resnet50.json
//
// schedule: a batch_decisions pickle to schedule JSON (arrival times are
// not in the pickle and are written as 0); table: a bootstrap or simulation
// pickle to a table .npz (the final output's column dropped); latency: an
// optimal_latency or apparate_latency pickle to a JSON array of ms; profile:
// the folder of profile pickles of one model (-model; -cv for the CV
// extraction, which the artifact uses for resnet* and vgg* models) to
// profile JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/paperlab/paperlab/lib/apparate"
)

func main() {
	kind := flag.String("kind", "", "what -in holds: schedule, table, latency or profile")
	in := flag.String("in", "", "the pickle (for profile: the folder of profile pickles)")
	out := flag.String("out", "", "the file to write")
	model := flag.String("model", "", "profile: the model name of the pickles, {model}_{bs}_earlyexit_profile.pickle")
	cv := flag.Bool("cv", false, "profile: CV extraction (vanilla modules with a BranchPoint twin); default NLP (branch_net nodes)")
	flag.Parse()
	if *in == "" || *out == "" {
		fail(fmt.Errorf("-in and -out are required"))
	}
	var err error
	switch *kind {
	case "schedule":
		err = convertSchedule(*in, *out)
	case "table":
		err = convertTable(*in, *out)
	case "latency":
		err = convertLatencies(*in, *out)
	case "profile":
		err = convertProfile(*in, *out, *model, *cv)
	default:
		err = fmt.Errorf("-kind %q: want schedule, table, latency or profile", *kind)
	}
	if err != nil {
		fail(err)
	}
}

func convertSchedule(in, out string) error {
	s, err := apparate.ScheduleFromPickle(in)
	if err != nil {
		return err
	}
	return apparate.WriteSchedule(out, s)
}

func convertTable(in, out string) error {
	t, err := apparate.TableFromPickle(in)
	if err != nil {
		return err
	}
	return apparate.WriteTable(out, t, map[string]string{"source": "Apparate artifact pickle " + in})
}

func convertLatencies(in, out string) error {
	l, err := apparate.LatenciesFromPickle(in)
	if err != nil {
		return err
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(data, '\n'), 0o644)
}

func convertProfile(in, out, model string, cv bool) error {
	if model == "" {
		return fmt.Errorf("-kind profile needs -model")
	}
	if !cv && (strings.Contains(model, "resnet") || strings.Contains(model, "vgg")) {
		fmt.Fprintf(os.Stderr, "apparate_convert: note: the artifact uses the CV extraction (-cv) for %s\n", model)
	}
	p, err := apparate.ProfileFromPickles(in, model, cv)
	if err != nil {
		return err
	}
	return p.Write(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "apparate_convert:", err)
	os.Exit(1)
}
