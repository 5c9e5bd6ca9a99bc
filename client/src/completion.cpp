// Shell completion generated from the CLI11 app itself: a new subcommand or option is completed
// the moment it exists, and a renamed one can never be offered under its old name.
#include <sstream>

#include "cli_app.h"

namespace fcc {

namespace {

struct Opt {
  std::vector<std::string> names;  // -o, --output; empty for a positional
  std::string label;               // positionals: their name
  std::string desc;
  std::string kind;  // "" (a flag), text, file, dir, path, id, choice:a b c
  bool many = false;
};

struct Cmd {
  std::string path;  // "", "transform", "models activate"
  std::string desc;
  std::vector<Opt> opts, positionals;
  std::vector<const CLI::App*> subs;
};

std::string value_kind(const CLI::Option& o) {
  if (o.get_items_expected_max() == 0) return "";
  const std::string t = o.get_type_name();
  auto b = t.find('{'), e = t.find('}');
  if (b != std::string::npos && e != std::string::npos && e > b) {
    std::string words = t.substr(b + 1, e - b - 1);
    for (char& c : words)
      if (c == ',') c = ' ';
    return "choice:" + words;
  }
  if (t.find("TASK") != std::string::npos) return "choice:age race";  // the shipped tasks
  if (t.find("PATH") != std::string::npos) return "path";
  if (t.find("FILE") != std::string::npos) return "file";
  if (t.find("DIR") != std::string::npos) return "dir";
  if (t == "ID") return "id";
  return "text";
}

Cmd describe(const CLI::App& app, const std::string& path, const CLI::App* root) {
  Cmd c;
  c.path = path;
  c.desc = app.get_description();
  std::vector<const CLI::Option*> options = app.get_options({});
  if (root && root != &app)  // fallthrough: the global options work after a subcommand too
    for (const CLI::Option* o : root->get_options({}))
      if (o != root->get_help_ptr()) options.push_back(o);
  for (const CLI::Option* o : options) {
    Opt x;
    x.desc = o->get_description();
    x.kind = value_kind(*o);
    x.many = o->get_items_expected_max() > 1;
    if (o->nonpositional()) {
      for (const auto& s : o->get_snames()) x.names.push_back("-" + s);
      for (const auto& l : o->get_lnames()) x.names.push_back("--" + l);
      c.opts.push_back(x);
    } else {
      x.label = o->get_name(true);
      c.positionals.push_back(x);
    }
  }
  c.subs = app.get_subcommands({});
  return c;
}

// Every command, parents before children.
void collect(const CLI::App& app, const std::string& path, const CLI::App* root,
             std::vector<Cmd>& out) {
  out.push_back(describe(app, path, root));
  for (const CLI::App* sub : app.get_subcommands({}))
    collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), root, out);
}

std::string join_names(const Cmd& c) {
  std::string s;
  for (const auto& o : c.opts)
    for (const auto& n : o.names) s += (s.empty() ? "" : " ") + n;
  return s;
}

const char* kBashDriver = R"SH(# Asks the daemon, with the command line's own --server and --token.
_facecycle_job_ids() {
  timeout 3 "${COMP_WORDS[0]}" "${_facecycle_conn[@]}" jobs 2>/dev/null | awk 'NR > 1 {print $1}'
}
_facecycle_complete_kind() {  # $1: kind, $2: the word being completed
  case "$1" in
    file | path) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2")) ;;
    dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$2")) ;;
    id) COMPREPLY=($(compgen -W "$(_facecycle_job_ids)" -- "$2")) ;;
    choice:*) COMPREPLY=($(compgen -W "${1#choice:}" -- "$2")) ;;
    *) COMPREPLY=() ;;
  esac
}
_facecycle() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local path='' i w kind subs n=0
  _facecycle_conn=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      case $w in --server | --token) _facecycle_conn+=("$w" "${COMP_WORDS[i+1]}") ;; esac
      case $w in --server=* | --token=*) _facecycle_conn+=("$w") ;; esac
      [[ $w != *=* && -n $(_facecycle_value "$path" "$w") ]] && ((i++))
    elif [[ " $(_facecycle_subcommands "$path") " == *" $w "* ]]; then
      path=${path:+$path }$w
    else
      ((n++))
    fi
  done
  if [[ $prev == -* ]]; then
    kind=$(_facecycle_value "$path" "$prev")
    if [[ -n $kind ]]; then
      _facecycle_complete_kind "$kind" "$cur"
      return
    fi
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_facecycle_options "$path")" -- "$cur"))
    return
  fi
  subs=$(_facecycle_subcommands "$path")
  if [[ -n $subs ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return
  fi
  _facecycle_complete_kind "$(_facecycle_positional "$path" "$n")" "$cur"
}
complete -F _facecycle facecycle
)SH";

// Text inside a single-quoted zsh word.
std::string zq(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out;
}

// An _arguments description: a bracket would end it early.
std::string zdesc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return zq(out);
}

std::string zaction(const std::string& kind) {
  if (kind == "file" || kind == "path") return "_files";
  if (kind == "dir") return "_files -/";
  if (kind == "id") return "_facecycle_job_ids";
  if (kind.rfind("choice:", 0) == 0) return "(" + kind.substr(7) + ")";
  return " ";
}

std::string zfunc(const std::string& path) {
  std::string f = "_facecycle";
  if (!path.empty()) f += "_";
  for (char c : path) f += c == ' ' ? '_' : c;
  return f;
}

// One _arguments line per option or argument.
std::string zsh_specs(const Cmd& c) {
  std::ostringstream out;
  for (const auto& o : c.opts) {
    std::string names, excl;
    for (const auto& n : o.names) {
      names += (names.empty() ? "" : ",") + n;
      excl += (excl.empty() ? "" : " ") + n;
    }
    bool stop = o.names.back() == "--help" || o.names.back() == "--version";
    std::string head = stop ? "(- *)" : o.names.size() > 1 ? "(" + excl + ")" : "";
    std::string spec = o.names.size() > 1 ? "'" + head + "'{" + names + "}'" : "'" + head + names;
    out << "    " << spec << "[" << zdesc(o.desc) << "]";
    if (!o.kind.empty()) out << ":" << zq(o.names.back().substr(2)) << ":" << zq(zaction(o.kind));
    out << "' \\\n";
  }
  for (size_t i = 0; i < c.positionals.size(); ++i) {
    const Opt& p = c.positionals[i];
    out << "    '" << (p.many ? "*" : std::to_string(i + 1)) << ":" << zdesc(p.label) << ":"
        << zq(zaction(p.kind)) << "' \\\n";
  }
  return out.str();
}

void zsh_function(const Cmd& c, std::ostream& out) {
  out << zfunc(c.path) << "() {\n";
  if (c.subs.empty()) {
    out << "  _arguments -s \\\n" << zsh_specs(c) << "    && return 0\n  return 1\n}\n";
    return;
  }
  out << "  local curcontext=$curcontext state line ret=1\n  typeset -A opt_args\n"
      << "  _arguments -C \\\n"
      << zsh_specs(c) << "    '1: :->command' '*:: :->argument' && ret=0\n"
      << "  case $state in\n    command)\n      local -a commands\n      commands=(\n";
  for (const auto* s : c.subs)
    out << "        '" << zq(s->get_name()) << ":" << zq(s->get_description()) << "'\n";
  out << "      )\n      _describe -t commands 'facecycle command' commands && ret=0 ;;\n"
      << "    argument)\n      case $words[1] in\n";
  for (const auto* s : c.subs) {
    std::string sub = c.path.empty() ? s->get_name() : c.path + " " + s->get_name();
    out << "        " << s->get_name() << ") " << zfunc(sub) << " && ret=0 ;;\n";
  }
  out << "      esac ;;\n  esac\n  return ret\n}\n";
}

const char* kZshTail = R"SH(# Asks the daemon, with the command line's own --server and --token.
_facecycle_job_ids() {
  local -a conn ids
  [[ -n ${opt_args[--server]} ]] && conn+=(--server ${opt_args[--server]})
  [[ -n ${opt_args[--token]} ]] && conn+=(--token ${opt_args[--token]})
  ids=(${(f)"$(timeout 3 facecycle $conn jobs 2>/dev/null | awk 'NR > 1 {print $1}')"})
  _describe -t job-ids 'job id' ids
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _facecycle "$@"
else
  compdef _facecycle facecycle
fi
)SH";

}  // namespace

std::string bash_completion(const CLI::App& app) {
  std::vector<Cmd> cmds;
  collect(app, "", &app, cmds);
  std::ostringstream subs, opts, values, pos;
  for (const auto& c : cmds) {
    std::string names;
    for (const auto* s : c.subs) names += (names.empty() ? "" : " ") + s->get_name();
    if (!names.empty()) subs << "    '" << c.path << "') echo '" << names << "' ;;\n";
    opts << "    '" << c.path << "') echo '" << join_names(c) << "' ;;\n";
    for (const auto& o : c.opts) {
      if (o.kind.empty()) continue;
      std::string pattern;
      for (const auto& n : o.names)
        pattern += (pattern.empty() ? "'" : " | '") + c.path + "|" + n + "'";
      values << "    " << pattern << ") echo '" << o.kind << "' ;;\n";
    }
    for (size_t i = 0; i < c.positionals.size(); ++i) {
      const Opt& p = c.positionals[i];
      pos << "    '" << c.path << "|" << (p.many ? "'*" : std::to_string(i) + "'") << ") echo '"
          << p.kind << "' ;;\n";
    }
  }
  std::ostringstream out;
  out << "# bash completion for facecycle " FC_VERSION
         ", generated by `facecycle completion bash` from its\n"
         "# command line. Install: share/bash-completion/completions/facecycle, or source it.\n"
      << "_facecycle_subcommands() {\n  case \"$1\" in\n"
      << subs.str() << "  esac\n}\n"
      << "_facecycle_options() {\n  case \"$1\" in\n"
      << opts.str() << "  esac\n}\n"
      << "# What an option takes (empty: a flag).\n_facecycle_value() {\n  case \"$1|$2\" in\n"
      << values.str() << "  esac\n}\n"
      << "# What the Nth (from 0) argument is.\n_facecycle_positional() {\n  case \"$1|$2\" in\n"
      << pos.str() << "  esac\n}\n"
      << kBashDriver;
  return out.str();
}

std::string zsh_completion(const CLI::App& app) {
  std::vector<Cmd> cmds;
  collect(app, "", &app, cmds);
  std::ostringstream out;
  out << "#compdef facecycle\n# zsh completion for facecycle " FC_VERSION
         ", generated by `facecycle completion zsh` from its\n"
         "# command line. Install: share/zsh/site-functions/_facecycle, or source it after "
         "compinit.\n\n";
  for (const auto& c : cmds) zsh_function(c, out);
  out << "\n" << kZshTail;
  return out.str();
}

}  // namespace fcc
