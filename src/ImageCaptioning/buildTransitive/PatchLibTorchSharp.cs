// The task behind ImageCaptioning.targets, compiled at build time by RoslynCodeTaskFactory, so the package needs no
// task assembly. RoslynCodeTaskFactory compiles against netstandard 2.0 reference assemblies: hence no Span,
// BinaryPrimitives or File.Move(..., overwrite).
//
// TorchSharp 0.107's libLibTorchSharp.so was linked with GCC 13+, whose <iostream> makes every object that includes it
// reference std::ios_base_library_init() at version GLIBCXX_3.4.32. The reference exists only to record that version
// requirement (libstdc++ 13 initialises the standard streams itself); there is no relocation against the symbol, so
// nothing ever binds it. On a GCC 12 libstdc++ (Debian 12, Ubuntu 22.04) the loader still refuses the library, because
// it checks every non-weak version need when it maps the library. With VER_FLG_WEAK on that one need, a missing
// version is no error (LD_DEBUG=versions merely mentions it). The streams are still initialised: libc10.so and
// libtorch_cpu.so, built with older GCCs, hold std::ios_base::Init objects, and as DT_NEEDED dependencies their
// constructors run before this library's.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace ImageCaptioning.Build
{
    /// <summary>
    /// Marks weak the libstdc++ version needs of libLibTorchSharp.so that the host's libstdc++ lacks, when only
    /// never-bound symbols depend on them, in the copies given (build or publish output, never a package cache).
    /// </summary>
    public sealed class PatchLibTorchSharp : Task
    {
        internal const string LibStdCxx = "libstdc++.so.6";
        private const ushort VerFlgWeak = 0x2;

        // Symbols that may go unresolved: each is referenced only to carry a version requirement, never bound.
        private static readonly HashSet<string> NeverBound = new HashSet<string>(StringComparer.Ordinal)
        {
            "_ZSt21ios_base_library_initv",
        };

        /// <summary>The libLibTorchSharp.so copies to check, in an output folder.</summary>
        [Required]
        public ITaskItem[] Files { get; set; }

        /// <summary>The copies whose missing libstdc++ versions are now weak: patched by this run or before.</summary>
        [Output]
        public ITaskItem[] WeakFiles { get; set; }

        /// <summary>Whether every copy was read and judged; false after a warning, so the check is not recorded as done.</summary>
        [Output]
        public bool AllChecked { get; set; }

        public override bool Execute()
        {
            var weak = new List<ITaskItem>();
            AllChecked = true;
            foreach (var item in Files ?? new ITaskItem[0])
            {
                var path = Path.GetFullPath(item.ItemSpec);
                Outcome outcome;
                try
                {
                    outcome = Check(path);
                }
                catch (Exception e)
                {
                    // This step exists so that builds succeed; a file it fails on is left alone, never a failed build.
                    Warn("ICLT005", path, "could not be checked (" + e.GetType().Name + ": " + e.Message + "), so it was left as is.");
                    outcome = Outcome.Unchecked;
                }
                if (outcome == Outcome.Weak) weak.Add(new TaskItem(path));
                if (outcome == Outcome.Unchecked) AllChecked = false;
            }
            WeakFiles = weak.ToArray();
            return !Log.HasLoggedErrors;
        }

        private enum Outcome { NotNeeded, Weak, Unchecked }

        private Outcome Check(string path)
        {
            byte[] image;
            try
            {
                image = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                Warn("ICLT001", path, "could not be read, so it was left as is: " + e.Message);
                return Outcome.Unchecked;
            }

            ElfFile elf;
            string problem;
            if (!ElfFile.TryParse(image, out elf, out problem))
            {
                Warn("ICLT002", path, "is not an ELF64 little-endian library whose symbol versions can be read (" + problem + "), so it was left as is.");
                return Outcome.Unchecked;
            }

            var needs = elf.Needs.Where(n => n.File == LibStdCxx).ToList();
            if (needs.Count == 0)
            {
                Say(path + ": needs no " + LibStdCxx + " versions; nothing to do.");
                return Outcome.NotNeeded;
            }

            var host = HostLibrary.Find(elf.Machine);
            if (host == null)
            {
                // Without a libstdc++ for its machine the library cannot load whatever its flags say.
                Say(path + ": no " + LibStdCxx + " for this machine was found on the host; nothing to do.");
                return Outcome.NotNeeded;
            }

            var missing = needs.Where(n => !host.Defines(n.Name)).ToList();
            var strict = missing.Where(n => (n.Flags & VerFlgWeak) == 0).ToList();
            if (missing.Count == 0)
            {
                Say(path + ": " + host.Path + " defines every " + LibStdCxx + " version it needs; nothing to do.");
                return Outcome.NotNeeded;
            }
            if (strict.Count == 0)
            {
                Say(path + ": already marks " + Names(missing) + " weak, which " + host.Path + " lacks; nothing to do.");
                return Outcome.Weak;
            }

            foreach (var need in strict)
            {
                var users = elf.SymbolsWithVersionIndex(need.Index);
                var bound = users.Where(s => !NeverBound.Contains(s)).ToList();
                if (bound.Count > 0)
                {
                    // A weak need would let the library load and then fail on the first call into one of these.
                    Warn("ICLT003", path, "needs " + need.Name + ", which " + host.Path + " lacks, for " + string.Join(", ", bound.Take(5)) +
                        (bound.Count > 5 ? " and " + (bound.Count - 5) + " more" : "") +
                        "; marking it weak would only defer the failure to a crash, so the file was left as is. It needs a newer libstdc++ (GCC 13 or later).");
                    return Outcome.Unchecked;
                }
            }

            var failure = Rewrite(path, image, strict);
            if (failure != null)
            {
                Warn("ICLT004", path, "could not be patched, so it was left as is: " + failure);
                return Outcome.Unchecked;
            }
            Say(path + ": marked " + Names(strict) + " weak because " + host.Path + " lacks " + (strict.Count == 1 ? "it" : "them") +
                " and only " + string.Join(", ", strict.SelectMany(n => elf.SymbolsWithVersionIndex(n.Index)).Distinct()) +
                ", which is never bound, uses " + (strict.Count == 1 ? "it" : "them") + "; without this the library does not load here. " +
                "Set ImageCaptioningPatchLibTorchSharp=false to turn this off.");
            return Outcome.Weak;
        }

        // The output copy may be a hard or symbolic link into the NuGet package folder: changing it in place would
        // change the package for every project on the machine. A new file renamed over the path leaves the package
        // alone, and the rename is atomic, so a build that stops half way leaves the old file, never a torn one.
        private static string Rewrite(string path, byte[] original, List<VersionNeed> needs)
        {
            var temp = Path.Combine(Path.GetDirectoryName(path), "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                // Copying (rather than writing the bytes) keeps the file's mode, which netstandard cannot set, and
                // its time, read from the copy because for a symbolic link the path's own time is the link's.
                File.Copy(path, temp);
                var written = File.GetLastWriteTimeUtc(temp);
                using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    if (stream.Length != original.Length) return "it changed while being patched";
                    var flags = new byte[2];
                    foreach (var need in needs)
                    {
                        stream.Position = need.FlagsOffset;
                        if (stream.Read(flags, 0, 2) != 2 || flags[0] != original[need.FlagsOffset] || flags[1] != original[need.FlagsOffset + 1])
                            return "it changed while being patched";
                        var value = (ushort)(need.Flags | VerFlgWeak);
                        stream.Position = need.FlagsOffset;
                        stream.Write(new[] { (byte)value, (byte)(value >> 8) }, 0, 2);
                    }
                }
                // The same size and time as the package's file make the next incremental build's Copy (SkipUnchangedFiles)
                // leave the patched copy in place instead of copying the original back over it to be patched again.
                File.SetLastWriteTimeUtc(temp, written);
                // On Unix File.Replace without a backup is rename(2).
                File.Replace(temp, path, null);
                return null;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return e.Message;
            }
            finally
            {
                try { if (File.Exists(temp)) File.Delete(temp); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
            }
        }

        private static string Names(IEnumerable<VersionNeed> needs) => string.Join(", ", needs.Select(n => n.Name).Distinct());

        private void Say(string message) => Log.LogMessage(MessageImportance.Normal, "ImageCaptioning: " + message);

        private void Warn(string code, string path, string message) =>
            Log.LogWarning(null, code, null, path, 0, 0, 0, 0, "ImageCaptioning: " + Path.GetFileName(path) + " " + message);
    }

    /// <summary>The libstdc++.so.6 the dynamic loader gives processes on this host, and the versions it defines.</summary>
    internal sealed class HostLibrary
    {
        private readonly HashSet<string> versions;
        private readonly byte[] image;

        private HostLibrary(string path, HashSet<string> versions, byte[] image)
        {
            Path = path;
            this.versions = versions;
            this.image = image;
        }

        public string Path { get; }

        public bool Defines(string version)
        {
            if (versions != null) return versions.Contains(version);
            // A libstdc++ without readable section headers: its version names are still in its string table.
            var needle = Encoding.ASCII.GetBytes("\0" + version + "\0");
            for (var i = 0; i + needle.Length <= image.Length; i++)
            {
                var j = 0;
                while (j < needle.Length && image[i + j] == needle[j]) j++;
                if (j == needle.Length) return true;
            }
            return false;
        }

        /// <summary>The first libstdc++.so.6 for <paramref name="machine"/> in the loader's order of preference, or null.</summary>
        public static HostLibrary Find(ushort machine)
        {
            foreach (var candidate in Candidates().Distinct(StringComparer.Ordinal))
            {
                byte[] image;
                try
                {
                    if (!File.Exists(candidate)) continue;
                    image = File.ReadAllBytes(candidate);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    continue;
                }
                ElfFile elf;
                string problem;
                if (ElfFile.TryParse(image, out elf, out problem))
                {
                    if (elf.Machine == machine) return new HostLibrary(candidate, elf.Definitions, null);
                }
                else if (ElfFile.IsElf64LittleEndian(image, machine))
                {
                    return new HostLibrary(candidate, null, image);
                }
            }
            return null;
        }

        private static IEnumerable<string> Candidates()
        {
            // MSBuild runs on the dotnet host, which links libstdc++, as the app's host will: the copy the loader mapped
            // into this process is the one the app gets, LD_LIBRARY_PATH included.
            foreach (var line in ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/');
                if (slash < 0) continue;
                var mapped = line.Substring(slash).TrimEnd();
                if (System.IO.Path.GetFileName(mapped).StartsWith(PatchLibTorchSharp.LibStdCxx, StringComparison.Ordinal)) yield return mapped;
            }
            foreach (var ldconfig in new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig" })
            {
                if (!File.Exists(ldconfig)) continue;
                foreach (var line in Run(ldconfig, "-p"))
                {
                    var arrow = line.IndexOf("=> ", StringComparison.Ordinal);
                    if (arrow > 0 && line.TrimStart().StartsWith(PatchLibTorchSharp.LibStdCxx + " ", StringComparison.Ordinal))
                        yield return line.Substring(arrow + 3).Trim();
                }
                break;
            }
            foreach (var directory in new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib64", "/usr/lib64", "/lib", "/usr/lib",
            })
                yield return directory + "/" + PatchLibTorchSharp.LibStdCxx;
        }

        private static IEnumerable<string> ReadLines(string path)
        {
            try { return File.ReadAllLines(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return new string[0]; }
        }

        private static IEnumerable<string> Run(string program, string arguments)
        {
            try
            {
                var start = new ProcessStartInfo(program, arguments)
                {
                    UseShellExecute = false,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    CreateNoWindow = true,
                };
                using (var process = Process.Start(start))
                {
                    process.ErrorDataReceived += (sender, e) => { };
                    process.BeginErrorReadLine();
                    var output = process.StandardOutput.ReadToEndAsync();
                    if (!process.WaitForExit(10000))
                    {
                        try { process.Kill(); } catch (InvalidOperationException) { }
                        return new string[0];
                    }
                    return output.Result.Split('\n');
                }
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is IOException || e is InvalidOperationException)
            {
                return new string[0];
            }
        }
    }

    /// <summary>One Vernaux entry of .gnu.version_r: a version <see cref="Name"/> needed from <see cref="File"/>.</summary>
    internal sealed class VersionNeed
    {
        public string File;
        public string Name;
        public ushort Flags;
        public ushort Index;
        public int FlagsOffset;
    }

    /// <summary>
    /// The symbol-versioning tables of an ELF64 little-endian file, read through its section headers with every offset
    /// checked against the file, so a damaged file is reported instead of crashing the build.
    /// </summary>
    internal sealed class ElfFile
    {
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const ushort VersymIndexMask = 0x7fff;

        private readonly byte[] image;
        private readonly Dictionary<ushort, List<string>> users = new Dictionary<ushort, List<string>>();

        private ElfFile(byte[] image) { this.image = image; }

        public ushort Machine { get; private set; }
        public List<VersionNeed> Needs { get; } = new List<VersionNeed>();
        public HashSet<string> Definitions { get; } = new HashSet<string>(StringComparer.Ordinal);

        public static bool IsElf64LittleEndian(byte[] image, ushort machine) =>
            image.Length >= 64 && image[0] == 0x7f && image[1] == (byte)'E' && image[2] == (byte)'L' && image[3] == (byte)'F' &&
            image[4] == 2 && image[5] == 1 && (image[18] | image[19] << 8) == machine;

        public static bool TryParse(byte[] image, out ElfFile elf, out string problem)
        {
            elf = new ElfFile(image);
            try
            {
                elf.Parse();
                problem = null;
                return true;
            }
            catch (BadElfException e)
            {
                elf = null;
                problem = e.Message;
                return false;
            }
        }

        /// <summary>The dynamic symbols whose .gnu.version entry is <paramref name="index"/>, for the indices of <see cref="Needs"/>.</summary>
        public List<string> SymbolsWithVersionIndex(ushort index)
        {
            List<string> names;
            return users.TryGetValue(index, out names) ? names : new List<string>();
        }

        private void Parse()
        {
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
                throw new BadElfException("no ELF header");
            if (image[4] != 2) throw new BadElfException("not ELF64");
            if (image[5] != 1) throw new BadElfException("not little-endian");
            Machine = U16(18);

            var sectionTable = U64(0x28);
            var entrySize = U16(0x3a);
            long count = U16(0x3c);
            if (sectionTable == 0) throw new BadElfException("no section headers");
            if (sectionTable > (ulong)image.Length) throw new BadElfException("section headers beyond the end of the file");
            if (entrySize < 64) throw new BadElfException("section header entries of " + entrySize + " bytes");
            // 0xff00 sections or more: the count is in section 0's sh_size.
            var actualCount = count == 0 ? U64((long)sectionTable + 32) : (ulong)count;
            if (actualCount > ((ulong)image.Length - sectionTable) / entrySize)
                throw new BadElfException("section headers beyond the end of the file");
            count = (long)actualCount;

            var sections = new Section[count];
            for (long i = 0; i < count; i++)
            {
                var header = (long)sectionTable + i * entrySize;
                sections[i] = new Section(U32(header + 4), U64(header + 24), U64(header + 32), U32(header + 40), U32(header + 44), image.Length);
            }

            Section Linked(Section section, string what)
            {
                if (section.Link == 0 || section.Link >= count) throw new BadElfException(what + " links to no section");
                var linked = sections[section.Link];
                if (!linked.InFile) throw new BadElfException(what + "'s string table lies outside the file");
                return linked;
            }

            Section dynsym = null, dynsymStrings = null, versym = null;
            foreach (var section in sections)
            {
                if (section.Type != ShtDynsym && section.Type != ShtGnuVersym && section.Type != ShtGnuVerneed && section.Type != ShtGnuVerdef)
                    continue;
                if (!section.InFile) throw new BadElfException("a symbol or version section lies outside the file");
                switch (section.Type)
                {
                    case ShtDynsym: dynsym = section; dynsymStrings = Linked(section, ".dynsym"); break;
                    case ShtGnuVersym: versym = section; break;
                    case ShtGnuVerneed: ReadNeeds(section, Linked(section, ".gnu.version_r")); break;
                    case ShtGnuVerdef: ReadDefinitions(section, Linked(section, ".gnu.version_d")); break;
                }
            }
            // A library always has .dynsym; without it the section headers were stripped or damaged.
            if (dynsym == null) throw new BadElfException("no .dynsym section");
            if (Needs.Count > 0 && versym == null) throw new BadElfException("version needs without .gnu.version");
            ReadUsers(dynsym, dynsymStrings, versym);
        }

        // Elf64_Sym is 24 bytes with st_name first; .gnu.version holds one u16 per symbol, its top bit "hidden".
        private void ReadUsers(Section dynsym, Section strings, Section versym)
        {
            foreach (var need in Needs) if (!users.ContainsKey(need.Index)) users[need.Index] = new List<string>();
            if (versym == null) return;
            var count = Math.Min(dynsym.Size / 24, versym.Size / 2);
            for (long i = 0; i < count; i++)
            {
                List<string> names;
                if (users.TryGetValue((ushort)(U16(versym.Offset + i * 2) & VersymIndexMask), out names))
                    names.Add(String(strings, U32(dynsym.Offset + i * 24)));
            }
        }

        // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
        // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
        private void ReadNeeds(Section section, Section strings)
        {
            long entry = 0;
            for (uint i = 0; i < section.Info; i++)
            {
                var at = Within(section, entry, 16);
                var auxCount = U16(at + 2);
                var file = String(strings, U32(at + 4));
                long aux = entry + U32(at + 8);
                for (var j = 0; j < auxCount; j++)
                {
                    var auxAt = Within(section, aux, 16);
                    Needs.Add(new VersionNeed
                    {
                        File = file,
                        Flags = U16(auxAt + 4),
                        Index = U16(auxAt + 6),
                        Name = String(strings, U32(auxAt + 8)),
                        FlagsOffset = checked((int)(auxAt + 4)),
                    });
                    var next = U32(auxAt + 12);
                    if (next == 0) break;
                    aux += next;
                }
                var nextEntry = U32(at + 12);
                if (nextEntry == 0) break;
                entry += nextEntry;
            }
        }

        // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32.
        // Elf64_Verdaux: vda_name u32, vda_next u32; the first names the version, any others its parents.
        private void ReadDefinitions(Section section, Section strings)
        {
            long entry = 0;
            for (uint i = 0; i < section.Info; i++)
            {
                var at = Within(section, entry, 20);
                if (U16(at + 6) > 0) Definitions.Add(String(strings, U32(Within(section, entry + U32(at + 12), 8))));
                var next = U32(at + 16);
                if (next == 0) break;
                entry += next;
            }
        }

        private static long Within(Section section, long offset, int length)
        {
            if (offset < 0 || offset > section.Size - length) throw new BadElfException("a version entry runs past its section");
            return section.Offset + offset;
        }

        private string String(Section strings, uint offset)
        {
            if (offset >= strings.Size) throw new BadElfException("a name lies outside its string table");
            var start = strings.Offset + offset;
            var end = start;
            var limit = strings.Offset + strings.Size;
            while (end < limit && image[end] != 0) end++;
            if (end == limit) throw new BadElfException("an unterminated name");
            return Encoding.UTF8.GetString(image, (int)start, (int)(end - start));
        }

        private void Need(long offset, int length)
        {
            if (offset < 0 || offset > image.Length - length) throw new BadElfException("a field lies beyond the end of the file");
        }

        private ushort U16(long offset)
        {
            Need(offset, 2);
            return (ushort)(image[offset] | image[offset + 1] << 8);
        }

        private uint U32(long offset)
        {
            Need(offset, 4);
            return (uint)(image[offset] | image[offset + 1] << 8 | image[offset + 2] << 16 | image[offset + 3] << 24);
        }

        private ulong U64(long offset) => U32(offset) | (ulong)U32(offset + 4) << 32;

        private sealed class Section
        {
            public Section(uint type, ulong offset, ulong size, uint link, uint info, long fileLength)
            {
                Type = type;
                Link = link;
                Info = info;
                InFile = offset <= (ulong)fileLength && size <= (ulong)fileLength - offset;
                Offset = InFile ? (long)offset : 0;
                Size = InFile ? (long)size : 0;
            }

            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
            public bool InFile { get; }
        }

        private sealed class BadElfException : Exception
        {
            public BadElfException(string message) : base(message) { }
        }
    }
}
